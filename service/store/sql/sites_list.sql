-- $1 kind, $2 area code, $3 limit, $4 offset; ordered by name, then id.
with matched as (
    select id, slug, name, kind, lon, lat, area_codes, version, updated_at from sites
    where ($1::text is null or kind = $1)
      and ($2::text is null or area_codes @> array[$2::text])
)
select t.total, p.*
from (select count(*) as total from matched) t
left join lateral (select * from matched order by name, id limit $3 offset $4) p on true
order by p.name, p.id
