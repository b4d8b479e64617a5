"""Open Referral UK (HSDS 3.0): the mapping of our model to HSDS and back (`mapping`, `terms`,
`attributes`, `hsds`, pure), reading a feed in (`importing`, `reading`, `feed`, pure; `store` writes it), the
published listings prepared per directory version (`listing`, `listings`, `published`), and the /openreferral routes
(`routes`, `query`).

May import the server and the core. FHIR builds on it (a contract says so); nothing else but app.py and cli.py
imports it."""
