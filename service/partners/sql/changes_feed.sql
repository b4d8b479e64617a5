-- The latest changes to services, newest first: $1 before this change id (null: from the newest), $2 how many.
with recent as materialized (
    select id, at, entity_key, version, fields from changes
    where entity = 'service' and ($1::bigint is null or id < $1)
    order by id desc
    limit $2
)
select c.id, c.at, s.id as service_id, s.slug, s.name, c.version,
    array(select f ->> 'field' from jsonb_array_elements(c.fields) f) as fields,
    exists (
        select 1 from jsonb_array_elements(c.fields) f where f ->> 'field' = 'status' and f ->> 'new' = 'closed'
    ) as closed
from recent c
join services s on s.id = c.entity_key::uuid
order by c.id desc
