select last_id from notice_cursors where name = $1 for update
