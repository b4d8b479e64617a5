select id, body, version, created_at, updated_at from services where slug = $1
