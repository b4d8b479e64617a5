-- $1 referral, $2 version, $3 actor, $4 outcome, $5 decline reason, $6 kind (made, outcome or handover), $7 and $8 the
-- handover this version recorded (minutes, hour of arrival) or nulls.
insert into referral_events (
    referral_id, version, at, actor, outcome, decline_reason, kind, handover_minutes, handover_arrived_hour
)
values ($1, $2, date_trunc('hour', now(), 'UTC'), $3, $4, $5, $6, $7, $8)
