-- The latest changes to services, newest first by the transaction that wrote them, then by id: $1 the page after
-- this change id (null: from the newest), $2 how many, $3 the horizon (the oldest transaction still running). Only
-- changes of finished transactions, all of whose elders have finished too, are listed: a change whose transaction
-- commits late comes in above those already read (a later transaction), never below a page a reader has passed.
with mark as (
    select xact from changes where id = $1
), recent as materialized (
    select id, at, entity_key, version, fields, xact from changes
    where entity = 'service' and xact < $3::text::xid8
      and (
          $1::bigint is null
          or (exists (select 1 from mark) and (xact, id) < ((select xact from mark), $1::bigint))
          or (not exists (select 1 from mark) and id < $1::bigint)
      )
    order by xact desc, id desc
    limit $2
)
select c.id, c.at, s.id as service_id, s.slug, s.name, c.version,
    array(select f ->> 'field' from jsonb_array_elements(c.fields) f) as fields,
    exists (
        select 1 from jsonb_array_elements(c.fields) f where f ->> 'field' = 'status' and f ->> 'new' = 'closed'
    ) as closed
from recent c
join services s on s.id = c.entity_key::uuid
order by c.xact desc, c.id desc
