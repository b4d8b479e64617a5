select count(*) from webhook_subscriptions where key_id = $1
