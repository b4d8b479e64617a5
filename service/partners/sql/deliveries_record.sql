-- What an attempt came to: $3 the new status (delivered, pending again, or failed), $4 the receiver's status code,
-- $5 a few words for a failure, $6 seconds to the next attempt (when pending). Only the attempt that claimed it
-- ($2, the count of attempts) may record it; returns when the next attempt is due.
update webhook_deliveries
set status = $3, last_status = $4, last_error = $5, claimed_at = null, updated_at = now(),
    next_attempt_at = case when $3 = 'pending' then now() + make_interval(secs => $6) else next_attempt_at end,
    delivered_at = case when $3 = 'delivered' then now() else delivered_at end
where id = $1 and status = 'sending' and attempts = $2
returning next_attempt_at
