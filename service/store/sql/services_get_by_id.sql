select id, body, version, created_at, updated_at from services where id = $1
