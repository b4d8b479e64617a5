select w.service_id, w.created_at as watched_since, c.who, c.name, c.email, c.identity, c.key_hash, c.problem_reports, c.review_digest
from service_watches w join notice_contacts c on c.who = w.who
where w.service_id = any($1::uuid[])
order by c.who
