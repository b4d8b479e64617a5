"""Gap maps: where an area's pathway breaks, by site, step, need, age band, gender and time band (`model`,
pure), worked out on the index (`compute`), remembered (`maps`), and served at /v1/reports/gaps (`routes`).

May import the server and the core. Independent of the other capabilities; the pages import it (a contract says so)."""
