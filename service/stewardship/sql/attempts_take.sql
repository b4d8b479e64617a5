delete from sign_in_attempts where id = $1 returning nonce, verifier, created_at
