-- The subscriptions switched on, each with its key as it is now: a revoked key's are not here.
select s.id, s.events, s.services, s.created_at, s.since::text as since, k.id as key_id, k.name, k.role, k.area_codes, k.service_ids
from webhook_subscriptions s
join api_keys k on k.id = s.key_id and k.revoked_at is null
where s.active
