-- Take a delivery to send: one that is due, or one whose sender has been silent past the lease ($2 seconds: a replica
-- that stopped mid-send). One attempt more, committed before the request is made, so that two workers never send it
-- at once. With its subscription, and whether its key still stands.
update webhook_deliveries d
set status = 'sending', attempts = d.attempts + 1, claimed_at = now(), updated_at = now()
from webhook_subscriptions s
where d.id = $1 and s.id = d.subscription_id
  and (
      (d.status = 'pending' and d.next_attempt_at <= now())
      or (d.status = 'sending' and d.claimed_at < now() - make_interval(secs => $2))
  )
returning d.id, d.subscription_id, d.body, d.attempts, d.created_at, s.url, s.secret, s.active,
    exists (select 1 from api_keys k where k.id = s.key_id and k.revoked_at is null) as key_stands
