"""The core's in-memory search index, kept current from the change feed: a package of small modules with one
job each (columns, places, timeline, masks, candidates, ranking, steps, answers) around a short DirectoryIndex, and
the keeper that builds and updates it.

May import `domain`, `settings` and `store`. Never imports the search, the server or a capability."""
