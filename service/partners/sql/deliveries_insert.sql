-- Deliveries made by the dispatcher (or a ping): one per subscription and change, the pair unique, so that a change
-- read twice is never queued twice. Returns the ids of those made now.
insert into webhook_deliveries (id, subscription_id, change_id, event_type, service_id, body)
select * from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::uuid[], $6::text[])
on conflict (subscription_id, change_id) do nothing
returning id
