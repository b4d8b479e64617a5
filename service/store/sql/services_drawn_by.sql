-- Each service's catchment and location, with who last drew them: the actor of the latest change that touched the
-- catchment or the location (a create or an import records every field).
select s.slug, s.body -> 'catchment' as catchment, s.body -> 'location' as location, w.actor
from services s
left join lateral (
    select c.actor
    from changes c
    where c.entity = 'service'
      and c.entity_key = s.id::text
      and exists (
          select 1 from jsonb_array_elements(c.fields) f
          where split_part(f ->> 'field', '.', 1) in ('catchment', 'location')
      )
    order by c.id desc
    limit 1
) w on true
order by s.slug
