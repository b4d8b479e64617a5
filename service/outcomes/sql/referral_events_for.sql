select version, at, actor, outcome, decline_reason, kind, handover_minutes, handover_arrived_hour
from referral_events where referral_id = $1 order by version
