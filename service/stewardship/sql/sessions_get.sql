select id, key_hash, identity, csrf, created_at, seen_at, expires_at from sessions where id = $1
