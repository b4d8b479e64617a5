-- A job for each delivery, in the caller's transaction, through the queue's own function (as
-- service/store/sql/jobs_defer.sql): $1 queue, $2 task, $3 the deliveries' ids, $4 when (null: now).
select procrastinate_defer_jobs_v1(array(
    select row(
        $1::varchar, $2::varchar, 0, null::text, null::text, jsonb_build_object('delivery_id', d), $4::timestamptz
    )::procrastinate_job_to_defer_v1
    from unnest($3::text[]) as d
))
