select p.id, p.service_id, s.slug as service_slug, s.body ->> 'name' as service_name, p.base_version, p.base,
       p.document, p.proposed_by, p.made_at, p.status, p.decided_at, p.decided_by, p.reject_reason, p.version,
       s.version as current_version, s.body as current
from proposals p join services s on s.id = p.service_id
where p.id = $1
