select id, name, role, area_codes, service_ids, prefix, created_at, created_by, revoked_at
from api_keys order by created_at, id
