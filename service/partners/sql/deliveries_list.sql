-- One subscription's delivery log, newest first (those made together, by their changes): $2 limit, $3 offset.
with matched as (
    select id, change_id, event_type, service_id, status, attempts, last_status, last_error,
        case when status in ('pending', 'sending') then next_attempt_at end as next_attempt_at,
        delivered_at, created_at, updated_at
    from webhook_deliveries
    where subscription_id = $1
)
select t.total, p.*
from (select count(*) as total from matched) t
left join lateral (
    select * from matched order by created_at desc, change_id desc nulls first, id desc limit $2 offset $3
) p on true
order by p.created_at desc, p.change_id desc nulls first, p.id desc
