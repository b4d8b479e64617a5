-- $2 the owning key (null: any, for admins): another key's subscription is not found, as if it did not exist.
select id, key_id, url, events, services, active, created_at, updated_at
from webhook_subscriptions
where id = $1 and ($2::uuid is null or key_id = $2)
