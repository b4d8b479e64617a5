select id, body::text as body, version, created_at, updated_at from services order by slug
