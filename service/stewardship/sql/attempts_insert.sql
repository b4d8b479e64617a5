insert into sign_in_attempts (id, nonce, verifier, created_at) values ($1, $2, $3, $4)
