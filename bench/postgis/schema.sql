-- The search "the way most teams would": the directory in PostGIS tables, one SQL query per search
-- (bench/postgis/search.sql). Built from the product's own tables in the benchmark's database.
set client_min_messages = warning;
create extension if not exists postgis;

drop table if exists pg_openings, pg_services, pg_areas;

create table pg_areas (
    code text primary key,
    geom geometry(MultiPolygon, 4326) not null
);
insert into pg_areas
select code, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(boundary::text), 4326)) from areas;
create index pg_areas_geom on pg_areas using gist (geom);

create table pg_services (
    id uuid primary key,
    slug text not null,
    name text not null,
    kind text not null,
    priority integer not null,
    contexts text[] not null,
    needs text[] not null,
    min_age double precision,
    max_age double precision,
    genders text[] not null,
    circumstances_required text[] not null,
    circumstances_excluded text[] not null,
    police_station boolean not null,
    capacity text not null,
    open_24_7 boolean not null,
    national boolean not null,
    catchment_codes text[] not null,
    radius_m double precision,
    polygon geometry(Geometry, 4326),
    location geography(Point, 4326)
);
insert into pg_services
select
    s.id, s.slug, s.name, s.kind, coalesce((s.body->>'pathway_priority')::int, 5), s.contexts, s.needs,
    (s.body->'eligibility'->'age'->>'min')::double precision,
    (s.body->'eligibility'->'age'->>'max')::double precision,
    array(select jsonb_array_elements_text(s.body->'eligibility'->'genders')),
    array(select jsonb_array_elements_text(s.body->'eligibility'->'circumstances_required')),
    array(select jsonb_array_elements_text(s.body->'eligibility'->'circumstances_excluded')),
    coalesce((s.body->>'police_station')::boolean, false),
    s.body->'capacity'->>'status',
    (s.body->'schedule'->>'open_24_7')::boolean,
    s.body->'catchment'->>'type' = 'national',
    s.catchment_codes,
    case when s.body->'catchment'->>'type' = 'radius' then (s.body->'catchment'->>'km')::double precision * 1000 end,
    case when s.body->'catchment'->>'type' = 'polygon'
        then ST_SetSRID(ST_GeomFromGeoJSON((s.body->'catchment'->'geometry')::text), 4326) end,
    case when s.body->'location' is not null and s.body->'location' <> 'null'::jsonb
        then ST_SetSRID(ST_MakePoint((s.body->'location'->>'lon')::float, (s.body->'location'->>'lat')::float), 4326)::geography end
from services s
where s.status = 'active';
create index pg_services_codes on pg_services using gin (catchment_codes);
create index pg_services_contexts on pg_services using gin (contexts);
create index pg_services_needs on pg_services using gin (needs);
create index pg_services_polygon on pg_services using gist (polygon);
create index pg_services_location on pg_services using gist (location);

-- Weekly opening hours, one row per day's opening (an opening past midnight closes the next day).
create table pg_openings (
    service_id uuid not null references pg_services (id),
    dow integer not null,
    opens time not null,
    closes time not null
);
insert into pg_openings
select s.id, array_position(array['mon','tue','wed','thu','fri','sat','sun'], w->>'day') - 1,
       (w->>'opens')::time, (w->>'closes')::time
from services s, jsonb_array_elements(s.body->'schedule'->'weekly') w
where s.status = 'active';
create index pg_openings_service on pg_openings (service_id, dow);
analyze pg_areas;
analyze pg_services;
analyze pg_openings;
