"""The pages (GOV.UK Design System, no JavaScript needed): the lookup, results and service pages, the
embed, recording a referral, and the commissioners' reports; templates/ and static/ beside them.

May import the server, the core, outcomes and gaps (a contract says so). No other capability; only app.py imports it."""
