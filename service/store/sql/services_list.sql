-- $1 kind, $2 area code in the catchment, $3 need, $4 context, $5 status (null: all but closed),
-- $6 lower-case text (LIKE-escaped), $7 limit, $8 offset. Ordered by name, then id, so paging is stable.
with matched as (
    select id, name, body, version, created_at, updated_at
    from services
    where ($1::text is null or kind = $1)
      and ($2::text is null or catchment_codes @> array[$2::text])
      and ($3::text is null or needs @> array[$3::text])
      and ($4::text is null or contexts @> array[$4::text])
      and (case when $5::text is null then status <> 'closed' else status = $5 end)
      and ($6::text is null or search_text like '%' || $6 || '%')
)
select t.total, p.id, p.body, p.version, p.created_at, p.updated_at
from (select count(*) as total from matched) t
left join lateral (select * from matched order by name, id limit $7 offset $8) p on true
order by p.name, p.id
