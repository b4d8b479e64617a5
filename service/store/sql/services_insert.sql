insert into services (id, slug, name, kind, status, contexts, needs, catchment_codes, search_text, body)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
returning id, body, version, created_at, updated_at
