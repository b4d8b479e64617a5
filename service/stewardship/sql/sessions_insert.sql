insert into sessions (id, key_hash, identity, csrf, created_at, seen_at, expires_at) values ($1, $2, $3, $4, $5, $5, $6)
