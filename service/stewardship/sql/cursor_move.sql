update notice_cursors set last_id = $2 where name = $1
