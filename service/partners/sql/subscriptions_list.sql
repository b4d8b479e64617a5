-- $1 the owning key (null: every key's, for admins), $2 limit, $3 offset; oldest first, so paging is stable.
with matched as (
    select id, key_id, url, events, services, active, created_at, updated_at
    from webhook_subscriptions
    where ($1::uuid is null or key_id = $1)
)
select t.total, p.*
from (select count(*) as total from matched) t
left join lateral (select * from matched order by created_at, id limit $2 offset $3) p on true
order by p.created_at, p.id
