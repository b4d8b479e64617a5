-- What a local copy of the directory is checked against (service/store/local_snapshot.py): which database this is
-- (as sql/directory_database.sql), the directory version, and for each table the search index is built from, a
-- digest of every row's key and row version. xmin changes with every write to a row, through the service or by
-- hand, and stays through VACUUM FREEZE.
select
    (select system_identifier::text from pg_control_system())
        || '/' || (select timeline_id::text from pg_control_checkpoint())
        || '/' || (select oid::text from pg_database where datname = current_database()) as database,
    (select coalesce(max(id), 0) from changes) as version,
    (select md5(coalesce(string_agg(id::text || ':' || xmin::text, ',' order by id), '')) from services) as services,
    (select md5(coalesce(string_agg(code || ':' || xmin::text, ',' order by code), '')) from areas) as areas,
    (select md5(coalesce(string_agg(id::text || ':' || xmin::text, ',' order by id), '')) from sites) as sites,
    (select md5(coalesce(string_agg(code || ':' || xmin::text, ',' order by code), '')) from postcode_centroids)
        as postcodes
