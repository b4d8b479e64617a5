-- Every transaction on this database older than this has finished: its rows are all visible now, or never will be.
-- The snapshot's xmin would do, but it is the whole server's: a transaction left open on another database would
-- hold back every webhook. So it is the oldest transaction in progress that is not known to be another database's
-- (one whose session we cannot see, or a prepared one, counts as ours), or, with none, the snapshot's xmax.
with snapshot as (select pg_current_snapshot() as s),
elsewhere as (
    select backend_xid::text::bigint as xid
    from pg_stat_activity
    where backend_xid is not null
      and datid is distinct from (select oid from pg_database where datname = current_database())
)
select coalesce(
    (
        select min(x::text::bigint)
        from snapshot, pg_snapshot_xip(snapshot.s) as x
        where x::text::bigint % 4294967296 not in (select xid from elsewhere)
    ),
    (select pg_snapshot_xmax(s)::text::bigint from snapshot)
)
