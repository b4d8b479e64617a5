update referrals
set outcome = $2, decline_reason = $3, version = version + 1, updated_at = date_trunc('hour', now(), 'UTC')
where id = $1
returning *
