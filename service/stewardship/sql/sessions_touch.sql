update sessions set seen_at = $2 where id = $1
