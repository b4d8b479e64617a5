-- One dispatcher at a time, however many replicas: the next waits here, and then finds nothing new to read.
select last_id from webhook_cursor where name = 'xact' for update
