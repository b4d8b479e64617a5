-- $3 events, $4 services, $5 active: each null when it is not changed.
update webhook_subscriptions
set events = coalesce($3, events), services = coalesce($4, services), active = coalesce($5, active),
    updated_at = now()
where id = $1 and ($2::uuid is null or key_id = $2)
returning id, key_id, url, events, services, active, created_at, updated_at
