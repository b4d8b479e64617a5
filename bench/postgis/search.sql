-- One search in one query: the services whose catchment holds the point, for the context, that take this age,
-- gender, one of the needs and the circumstances, open now (or 24/7), not full, nearest first within kind.
-- $1 lon, $2 lat, $3 context, $4 age, $5 gender, $6 needs, $7 circumstances, $8 day of week (0 = Monday),
-- $9 local time of day, $10 limit.
with here as (
    select ST_SetSRID(ST_MakePoint($1, $2), 4326) as pt
), codes as (
    select coalesce(array_agg(a.code), '{}') as codes from pg_areas a, here where ST_Covers(a.geom, here.pt)
)
select s.slug, s.name, s.kind, ST_Distance(s.location, here.pt::geography) / 1000 as km, s.capacity
from pg_services s, here, codes
where $3 = any(s.contexts)
  and (s.national
       or s.catchment_codes && codes.codes
       or (s.radius_m is not null and ST_DWithin(s.location, here.pt::geography, s.radius_m))
       or (s.polygon is not null and ST_Covers(s.polygon, here.pt)))
  and (s.min_age is null or s.min_age <= $4)
  and (s.max_age is null or $4 <= s.max_age)
  and (cardinality(s.genders) = 0 or $5 = any(s.genders))
  and s.needs && $6::text[]
  and s.circumstances_required <@ $7::text[]
  and not (s.circumstances_excluded && $7::text[])
  and not (s.police_station and $4 < 18)
  and s.capacity <> 'full'
  and (s.open_24_7 or exists (
        select 1 from pg_openings o
        where o.service_id = s.id
          and ((o.dow = $8 and o.opens <= $9 and ($9 < o.closes or o.closes <= o.opens))
               or (o.dow = ($8 + 6) % 7 and o.closes <= o.opens and $9 < o.closes))))
order by s.priority, km nulls last
limit $10
