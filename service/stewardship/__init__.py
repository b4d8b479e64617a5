"""Stewardship: the people who keep the directory right. Signing in (an API key checked once and exchanged for a
session kept in PostgreSQL, so that signing out or revoking the key ends it on every replica), and the provider's
capacity page, made for a phone at 3 a.m. (`sessions` pure; `store` keeps sessions, SQL in sql/; `routes` the pages,
templates/ beside them).

May import the server and the core. Independent of the other capabilities; only app.py imports it."""
