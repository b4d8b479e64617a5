-- Every stored date-time carries its offset, within the range the API now accepts.
--
-- Before this, a capacity `until` or a `verified_at` without a zone was accepted and stored as written; an aware
-- comparison with it then failed and took explained searches down, and dates at the ends of the calendar overflowed.
-- Such values are read as Europe/London (what a person in England or Wales meant), and clamped into the allowed
-- range: `until` no earlier than 2000 and at most 120 hours ahead, `verified_at` between 2000 and now. Each repaired
-- service gets a new version and a change record, so replicas rebuild and the history says what happened.

create function pg_temp.zoned(value text) returns boolean language sql immutable as $$
    select value ~ '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$'
$$;

-- The offset is applied by hand: PostgreSQL refuses offsets beyond 15:59, which RFC 3339 parsers accepted.
create function pg_temp.aware(value text) returns timestamptz language sql immutable as $$
    select case
        when m is null then value::timestamp at time zone 'Europe/London'
        when m[2] is not null then m[1]::timestamp at time zone 'UTC'
        else (m[1]::timestamp - (case m[3] when '-' then -1 else 1 end)
              * (m[4]::int * 60 + coalesce(m[5], '0')::int) * interval '1 minute') at time zone 'UTC'
    end
    from (select regexp_match(value, '^(.*?)(?:([Zz])|([+-])([0-9]{2}):?([0-9]{2})?)$') as m) parsed
$$;

create function pg_temp.iso(value timestamptz) returns jsonb language sql immutable as $$
    select to_jsonb(to_char(value at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;

create function pg_temp.repair(value text, latest timestamptz) returns jsonb language sql immutable as $$
    select case
        when value is null then null
        when pg_temp.zoned(value)
             and pg_temp.aware(value) between timestamptz '2000-01-01 00:00Z' and latest then null
        else pg_temp.iso(greatest(least(pg_temp.aware(value), latest), timestamptz '2000-01-01 00:00Z'))
    end
$$;

create function pg_temp.put(body jsonb, path text[], value jsonb) returns jsonb language sql immutable as $$
    select case when value is null then body else jsonb_set(body, path, value) end
$$;

create temporary table repaired on commit drop as
select id, until_text, verified_text, until_new, verified_new
from (
    select id,
           body #>> '{capacity,until}' as until_text,
           body #>> '{verification,verified_at}' as verified_text,
           pg_temp.repair(body #>> '{capacity,until}', now() + interval '120 hours') as until_new,
           pg_temp.repair(body #>> '{verification,verified_at}', now()) as verified_new
    from services
) checked
where until_new is not null or verified_new is not null;

with updated as (
    update services s
    set body = pg_temp.put(pg_temp.put(s.body, '{capacity,until}', r.until_new),
                           '{verification,verified_at}', r.verified_new),
        version = s.version + 1,
        updated_at = now()
    from repaired r
    where s.id = r.id
    returning s.id, s.version
)
insert into changes (actor, entity, entity_key, operation, version, fields)
select 'migration:0005_aware_datetimes', 'service', u.id::text, 'update', u.version,
       (select jsonb_agg(item) from (
            select jsonb_build_object('field', 'capacity.until', 'old', r.until_text, 'new', r.until_new) as item
            where r.until_new is not null
            union all
            select jsonb_build_object('field', 'verification.verified_at', 'old', r.verified_text, 'new', r.verified_new)
            where r.verified_new is not null
        ) items)
from updated u join repaired r on r.id = u.id
order by u.id;
