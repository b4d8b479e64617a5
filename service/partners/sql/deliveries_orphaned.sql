-- Deliveries no job will take: taken by a sender that stopped (its lease, $1 seconds, past) or due long ago, with no
-- job of task $3 waiting for or running them (a job that ran while another held the lease ended without one). At
-- most $2 of them, oldest first; the sweep queues a job for each, and the claim keeps a repeat harmless.
with candidates as (
    select id from webhook_deliveries
    where (status = 'sending' and claimed_at < now() - make_interval(secs => $1))
       or (status = 'pending' and next_attempt_at < now() - make_interval(secs => $1))
    order by updated_at
    limit $2
)
select c.id from candidates c
where c.id::text not in (
    select args ->> 'delivery_id' from procrastinate_jobs
    where task_name = $3 and status in ('todo', 'doing') and args ? 'delivery_id'
)
