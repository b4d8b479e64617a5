insert into sessions (id, key_hash, csrf, created_at, seen_at, expires_at) values ($1, $2, $3, $4, $4, $5)
