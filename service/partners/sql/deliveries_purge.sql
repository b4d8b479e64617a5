-- The delivery log keeps finished deliveries for $1 days.
delete from webhook_deliveries
where status in ('delivered', 'failed') and updated_at < now() - make_interval(days => $1)
