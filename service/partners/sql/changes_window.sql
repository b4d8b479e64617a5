-- Changes to services by transactions in [$1, $2): the dispatcher's window (as the notifier's, 0019_notice_order.sql),
-- each with the service's slug and name now, and the paths of the fields it touched: never their values.
with window_changes as materialized (
    select id, at, entity_key, version, fields, xact from changes
    where xact >= $1::text::xid8 and xact < $2::text::xid8 and entity = 'service'
)
select c.id, c.at, c.xact::text::bigint as xact, s.id as service_id, s.slug, s.name, c.version,
    array(select f ->> 'field' from jsonb_array_elements(c.fields) f) as fields,
    exists (
        select 1 from jsonb_array_elements(c.fields) f where f ->> 'field' = 'status' and f ->> 'new' = 'closed'
    ) as closed
from window_changes c
join services s on s.id = c.entity_key::uuid
order by c.id
