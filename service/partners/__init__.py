"""Change notifications for partners: webhooks a key holder registers, and a feed of changes for those who cannot
receive them. Each change to a service in the change log becomes an event (`events`, pure: created, changed, closed,
capacity changed), a thin message with ids, slug, version and links and never a record's contents; it is signed as
the Standard Webhooks scheme says (`signing`, pure), sent only to public addresses unless the deployment allows
others (`addresses`, pure; `sending`, which resolves the host and connects to the address it checked), and retried on
a schedule (`deliveries`, pure). The dispatcher (`dispatch`) reads the change log by transaction, as the
stewardship's notifier does, and queues one delivery per subscription and change, each a job on the server's queue;
the subscriptions and their delivery log are in `store` (SQL in sql/); the routes are /v1/webhooks and the Atom and
JSON feeds at /v1/changes/feed.atom and feed.json (`routes`, `feeds` pure).

May import the server and the core. Independent of the other capabilities; only app.py imports it."""
