delete from webhook_subscriptions
where id = $1 and ($2::uuid is null or key_id = $2)
returning id, key_id, url, events, services, active, created_at, updated_at
