insert into referral_events (referral_id, version, actor, outcome, decline_reason)
values ($1, $2, $3, $4, $5)
