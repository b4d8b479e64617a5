update services
set slug = $2, name = $3, kind = $4, status = $5, contexts = $6, needs = $7, catchment_codes = $8,
    search_text = $9, body = $10, version = version + 1, updated_at = now()
where id = $1
returning id, body, version, created_at, updated_at
