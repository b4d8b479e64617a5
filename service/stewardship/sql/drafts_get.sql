select id, service_id, base_version, base, document, done, updated_at
from service_drafts
where id = $1 and session_id = $2
