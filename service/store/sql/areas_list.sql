-- $1 kind (null: all), $2 limit, $3 offset; ordered by code.
with matched as (
    select code, kind, name, min_lon, min_lat, max_lon, max_lat, version from areas
    where ($1::text is null or kind = $1)
)
select t.total, p.*
from (select count(*) as total from matched) t
left join lateral (select * from matched order by code limit $2 offset $3) p on true
order by p.code
