"""The core's one search entry point (`entry.find`), which every route and page uses, with its query parsing
and geocoder, and the answers of the last second (`answered`).

May import the rest of the core. Never imports the server or a capability."""
