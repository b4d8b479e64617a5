-- $1 referral, $2 whole minutes from arrival to handover, $3 the hour of arrival.
update referrals
set handover_minutes = $2, handover_arrived_hour = $3, version = version + 1,
    updated_at = date_trunc('hour', now(), 'UTC')
where id = $1
returning *
