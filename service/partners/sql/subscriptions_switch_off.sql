update webhook_subscriptions set active = false, updated_at = now() where id = $1 and active returning id
