-- The directory: areas, sites and services, and the change log that records every write.
-- A service's full document lives in `body` (the msgspec ServiceBody as JSON); the columns beside it are
-- copies of the fields that lists filter on, kept in step by the store in the same statement.

create table areas (
    code        text primary key check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$'),
    kind        text not null check (kind in ('police_force_area', 'local_authority', 'custom')),
    name        text not null check (length(name) between 1 and 200),
    boundary    jsonb not null,
    min_lon     double precision not null,
    min_lat     double precision not null,
    max_lon     double precision not null,
    max_lat     double precision not null,
    version     integer not null default 1 check (version > 0),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index areas_kind on areas (kind, code);

create table sites (
    id          uuid primary key,
    slug        text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name        text not null,
    kind        text not null check (kind in ('custody_suite', 'court', 'police_station', 'hospital', 'other')),
    lon         double precision not null check (lon between -180 and 180),
    lat         double precision not null check (lat between -90 and 90),
    area_codes  text[] not null default '{}',
    version     integer not null default 1 check (version > 0),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index sites_area_codes on sites using gin (area_codes);

create table services (
    id              uuid primary key,
    slug            text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name            text not null,
    kind            text not null,
    status          text not null check (status in ('active', 'temporarily_closed', 'closed')),
    contexts        text[] not null,
    needs           text[] not null,
    catchment_codes text[] not null default '{}',
    search_text     text not null,
    body            jsonb not null,
    version         integer not null default 1 check (version > 0),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index services_order on services (name, id);
create index services_needs on services using gin (needs);
create index services_contexts on services using gin (contexts);
create index services_catchment_codes on services using gin (catchment_codes);

-- Every write appends here: who, when, what, and each changed field old -> new. The highest id is the
-- directory version; a NOTIFY on insert is the change feed for in-memory indexes on every replica.
create table changes (
    id          bigserial primary key,
    at          timestamptz not null default now(),
    actor       text not null,
    entity      text not null check (entity in ('service', 'area', 'site')),
    entity_key  text not null,
    operation   text not null check (operation in ('create', 'replace', 'update', 'delete', 'import')),
    version     integer not null,
    fields      jsonb not null
);
create index changes_entity on changes (entity, entity_key, id);

create function notify_directory_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('directory_changes', json_build_object(
        'id', new.id, 'entity', new.entity, 'key', new.entity_key, 'version', new.version)::text);
    return new;
end;
$$;
create trigger changes_notify after insert on changes
    for each row execute function notify_directory_change();
