select exists (select 1 from procrastinate_jobs where queueing_lock = $1 and status = 'todo')
