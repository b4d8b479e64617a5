insert into notice_cursors (name, last_id) values ($1, 0) on conflict do nothing
