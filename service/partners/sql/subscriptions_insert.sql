insert into webhook_subscriptions (id, key_id, url, events, services, secret)
values ($1, $2, $3, $4, $5, $6)
returning id, key_id, url, events, services, active, created_at, updated_at
