-- One dispatcher at a time, however many replicas: another that finds the cursor taken does not wait for it (its run
-- would find nothing new to read), and nothing is logged.
select last_id from webhook_cursor where name = 'xact' for update skip locked
