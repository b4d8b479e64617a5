insert into api_keys (id, name, role, area_codes, service_ids, key_hash, prefix, created_by)
values ($1, $2, $3, $4, $5, $6, $7, $8)
returning id, name, role, area_codes, service_ids, prefix, created_at, created_by, revoked_at
