-- Which database this is: its cluster's system identifier and timeline (which a restore to an earlier point moves
-- on) and its own oid. A local copy of the directory written from another is never used.
select (select system_identifier::text from pg_control_system())
    || '/' || (select timeline_id::text from pg_control_checkpoint())
    || '/' || (select oid::text from pg_database where datname = current_database())
