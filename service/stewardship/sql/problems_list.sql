-- Reports about these services ($1; null: every service), open ones ($2 = 'open') or closed ones, newest first.
select r.id, r.service_id, s.slug as service_slug, s.body ->> 'name' as service_name, r.service_version, r.reason,
       r.note, r.note_removed, r.status, r.made_at, r.closed_at, r.closed_by, r.close_reason
from problem_reports r join services s on s.id = r.service_id
where ($1::uuid[] is null or r.service_id = any($1::uuid[]))
  and (($2 = 'open') = (r.status = 'open'))
order by r.made_at desc, r.id
limit $3
