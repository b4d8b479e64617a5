-- The change feed's notices say when each change was logged (the database's clock, as seconds since the epoch), so
-- that each replica can measure how far its index lags behind the directory (pathways_change_feed_lag_seconds).
create or replace function notify_directory_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('directory_changes', json_build_object(
        'id', new.id, 'entity', new.entity, 'key', new.entity_key, 'version', new.version,
        'at', extract(epoch from clock_timestamp()))::text);
    return new;
end;
$$;
