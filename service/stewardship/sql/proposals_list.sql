-- Proposals, open ones ($1 = 'open') or decided ones, about these services ($3; null: all), newest first, with the
-- service as it is now.
select p.id, p.service_id, s.slug as service_slug, s.body ->> 'name' as service_name, p.base_version, p.base,
       p.document, p.proposed_by, p.made_at, p.status, p.decided_at, p.decided_by, p.reject_reason, p.version,
       s.version as current_version, s.body as current
from proposals p join services s on s.id = p.service_id
where ($1 = 'open') = (p.status = 'open')
  and ($3::uuid[] is null or p.service_id = any($3::uuid[]))
order by p.made_at desc, p.id
limit $2
