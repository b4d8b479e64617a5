-- Queue one procrastinate job in the caller's transaction (service/server/jobs.py): the queue's own function.
select (procrastinate_defer_jobs_v1(array[
    row($1::varchar, $2::varchar, $3::integer, $4::text, $5::text, $6::jsonb, $7::timestamptz)::procrastinate_job_to_defer_v1
]))[1]
