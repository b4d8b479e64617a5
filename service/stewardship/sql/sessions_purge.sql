delete from sessions where expires_at <= $1 or seen_at <= $2
