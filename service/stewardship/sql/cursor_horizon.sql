-- Every transaction older than this has finished: its rows are all visible now, or never will be.
select pg_snapshot_xmin(pg_current_snapshot())::text::bigint
