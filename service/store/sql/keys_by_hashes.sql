select key_hash, id, name, role, area_codes, service_ids from api_keys where key_hash = any($1::text[]) and revoked_at is null
