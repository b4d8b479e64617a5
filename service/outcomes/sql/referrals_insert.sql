insert into referrals (
    id, service_id, service_slug, service_name, site_id, site_slug, force_code, district_code, context, made_at,
    age_band, gender, needs, circumstances, repeat_contact, outcome, decline_reason, synthetic, version, recorded_by,
    updated_at, handover_minutes, handover_arrived_hour
)
values (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'made', null, $16, 1, $17,
    date_trunc('hour', now(), 'UTC'), $18, $19
)
returning *
