delete from sign_in_attempts where created_at <= $1
