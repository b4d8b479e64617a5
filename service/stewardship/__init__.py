"""Stewardship: the people who keep the directory right. Signing in, with an API key (checked once and exchanged for a
session) or through the deployment's OpenID Connect provider (`oidc`: authorization code with PKCE; `claims` maps
the ID token's claims to a role and a scope, pure); sessions kept in PostgreSQL, so that signing out or revoking the
key ends them on every replica (`sessions` pure, `store`, SQL in sql/); and the provider's capacity page, made for a
phone at 3 a.m. (`routes`, templates/ beside them).

May import the server and the core. Independent of the other capabilities; only app.py imports it."""
