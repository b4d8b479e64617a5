update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1
returning id, name, role, area_codes, service_ids, prefix, created_at, created_by, revoked_at
