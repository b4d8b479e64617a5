-- Whether the subscription has a ping not yet finished (waiting, or being sent): one at a time.
select exists (
    select 1 from webhook_deliveries
    where subscription_id = $1 and change_id is null and status in ('pending', 'sending')
)
