-- Handovers to health by area ($1: 'area', the force, or 'district') and month of arrival in London, and by area over
-- the whole span (month null): how many, how many within $5 minutes, how many synthetic, the sums of their report
-- keys (which decide which way each count is rounded: service/outcomes/suppression.py) and the median minutes.
-- $2 areas (null: any; a referral's force or district), $3 from, $4 to (exclusive), both of the hour of arrival.
with handovers as (
    select
        case $1::text when 'district' then coalesce(district_code, 'unknown')
            else coalesce(force_code, 'unknown') end as area,
        to_char(handover_arrived_hour at time zone 'Europe/London', 'YYYY-MM') as month,
        handover_minutes as minutes, synthetic, report_key
    from referrals
    where handover_minutes is not null
      and ($2::text[] is null or force_code = any($2) or district_code = any($2))
      and handover_arrived_hour >= $3 and handover_arrived_hour < $4
)
select
    area,
    month,
    count(*)::int as n,
    count(*) filter (where minutes <= $5)::int as within,
    count(*) filter (where synthetic)::int as synthetic,
    sum(report_key)::bigint as key,
    coalesce(sum(report_key) filter (where minutes <= $5), 0)::bigint as within_key,
    percentile_cont(0.5) within group (order by minutes) as median
from handovers
group by grouping sets ((area, month), (area))
order by area, month nulls last
