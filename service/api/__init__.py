"""The directory's own API: services, areas, sites, keys, changes, the directory document's import and
export, the taxonomies, and the referral-options search.

May import the server and the core. Independent of every other capability; only app.py imports it."""
