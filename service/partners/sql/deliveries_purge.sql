-- The delivery log keeps finished deliveries for $1 days: deleted $2 at a time (each batch its own statement, well
-- within the statement timeout however large the log grew).
delete from webhook_deliveries
where id in (
    select id from webhook_deliveries
    where status in ('delivered', 'failed') and updated_at < now() - make_interval(days => $1)
    limit $2
)
