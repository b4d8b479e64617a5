select r.id, r.service_id, s.slug as service_slug, s.body ->> 'name' as service_name, r.service_version, r.reason,
       r.note, r.note_removed, r.status, r.made_at, r.closed_at, r.closed_by, r.close_reason
from problem_reports r join services s on s.id = r.service_id
where r.id = $1
