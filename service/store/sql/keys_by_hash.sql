select id, name, role, area_codes, service_ids from api_keys where key_hash = $1 and revoked_at is null
