-- The dispatcher's cursor, made afresh (at the transactions starting now) if it was ever lost.
insert into webhook_cursor (name, last_id) values ('xact', pg_current_xact_id()::text::bigint)
on conflict do nothing
