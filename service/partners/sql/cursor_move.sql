update webhook_cursor set last_id = $1 where name = 'xact'
