-- Counts of referrals by two dimensions ($1 the rows', $2 the columns'). By need, a referral counts once under
-- each of its needs ('none' when it has none). $3 areas (null: any; a referral's force or district), $4 from,
-- $5 to (exclusive), $6 service slug or null, $7 context or null. Each count comes with the sum of its records' report
-- keys, which decides which way it is rounded (service/outcomes/suppression.py).
with dims as (
    select
        coalesce(force_code, 'unknown') as area,
        coalesce(district_code, 'unknown') as district,
        service_slug as service,
        coalesce(site_slug, 'none') as site,
        to_char(made_at at time zone 'Europe/London', 'YYYY-MM') as month,
        n.need, age_band, gender, context, outcome, repeat_contact, synthetic, report_key
    from referrals
    cross join lateral unnest(
        case when $1::text = 'need' or $2::text = 'need'
            then (case when cardinality(needs) = 0 then array['none'] else needs end)
            else array[''] end
    ) as n(need)
    where ($3::text[] is null or force_code = any($3) or district_code = any($3))
      and made_at >= $4 and made_at < $5
      and ($6::text is null or service_slug = $6)
      and ($7::text is null or context = $7)
)
select
    case $1::text when 'area' then area when 'district' then district when 'service' then service
        when 'site' then site when 'month' then month when 'need' then need when 'age_band' then age_band
        when 'gender' then gender when 'context' then context when 'outcome' then outcome
        when 'repeat_contact' then repeat_contact end as row_key,
    case $2::text when 'area' then area when 'district' then district when 'service' then service
        when 'site' then site when 'month' then month when 'need' then need when 'age_band' then age_band
        when 'gender' then gender when 'context' then context when 'outcome' then outcome
        when 'repeat_contact' then repeat_contact end as column_key,
    count(*)::int as n,
    count(*) filter (where synthetic)::int as synthetic,
    sum(report_key)::bigint as key
from dims
group by 1, 2
