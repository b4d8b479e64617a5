"""Stewardship: the people who keep the directory right. Signing in, with an API key (checked once and exchanged for a
session) or through the deployment's OpenID Connect provider (`oidc`: authorization code with PKCE; `claims` maps
the ID token's claims to a role and a scope, pure); sessions kept in PostgreSQL, so that signing out or revoking the
key ends them on every replica (`sessions` pure, `store`, SQL in sql/); the provider's capacity page, made for a
phone at 3 a.m. (`routes`, `views`); the editors' pages, a task list of sections then "Check your answers", written
through the API's own write path (pure: `editing`, the sections and the API's checks; `reading`, each form read
into the API's document; `answers`, the answers and changes in words; then `drafting` and `editor`); the list of
what each person keeps (`listing`); the admins' pages for custody suites and courts (`sites`); and keeping the
directory true: review dates (`reviews`, `review_routes`; the rule is the core's, service/domain/review.py),
problem reports (pure `problems`; `problem_store`, `problem_routes`), proposed changes (pure `proposals`;
`proposal_store`, `proposal_routes`), and e-mail (pure `notices`; `contacts`, `notify`, the jobs it runs on the
server's queue, and `notification_routes`), with the demo's loop (`demo`). Templates in templates/, SQL in sql/.

May import the server and the core. Independent of the other capabilities; only app.py imports it."""
