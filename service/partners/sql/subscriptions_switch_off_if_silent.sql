-- Switch a subscription off when its receiver has taken no delivery since $2 (when the one given up was made).
update webhook_subscriptions s set active = false, updated_at = now()
where s.id = $1 and s.active
  and not exists (
      select 1 from webhook_deliveries d
      where d.subscription_id = s.id and d.status = 'delivered' and d.delivered_at >= $2
  )
returning s.id
