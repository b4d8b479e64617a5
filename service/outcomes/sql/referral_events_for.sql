select version, at, actor, outcome, decline_reason from referral_events where referral_id = $1 order by version
