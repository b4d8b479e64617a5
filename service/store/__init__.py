"""The core's store: the only place asyncpg is imported outside a capability's own `store.py`. The pool,
migrations, the directory's queries (SQL in sql/*.sql), the change feed and the local snapshot.

May import `domain` and `settings`. Never imports the index, the search, the server or a capability."""
