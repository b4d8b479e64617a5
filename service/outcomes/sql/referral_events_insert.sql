insert into referral_events (referral_id, version, at, actor, outcome, decline_reason)
values ($1, $2, date_trunc('hour', now(), 'UTC'), $3, $4, $5)
