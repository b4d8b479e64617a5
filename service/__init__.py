"""ld-pathways: a referral pathway directory and routing API for Liaison and Diversion in England and Wales.

The house, read as the product's table of contents (README "How it is built"):
- the core, in layers, each importing only those below it: `domain` (pure rules and model), `settings`, `store`
  (PostgreSQL), `index` (the in-memory search index), `search` (the one search entry point);
- `server`: what runs the server (the runtime, identities and guards, the error map, telemetry, logs);
- capabilities, side by side over the server and the core: `api` (the directory's own API), `openreferral`,
  `outcomes` (referral outcomes and reports), `gaps` (gap maps); over those, `fhir` (on Open Referral's mapping)
  and `pages` (which show outcomes and gap maps);
- `app.py` (create_app) and `cli.py` (the `pathways` command) at the top.

The contracts are in pyproject.toml ([tool.importlinter]); `make test` checks them with lint-imports."""
