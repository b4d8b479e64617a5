-- The values a dimension ($1: area, district, service, site or need) takes among the kept referrals of some areas
-- ($2, null: any; a referral's force or district), whatever their time, service or context: what an outcome table
-- lists by that dimension, so that which rows it has says nothing about the period or filters asked.
select distinct k.key
from referrals
cross join lateral unnest(
    case $1::text
        when 'area' then array[coalesce(force_code, 'unknown')]
        when 'district' then array[coalesce(district_code, 'unknown')]
        when 'service' then array[service_slug]
        when 'site' then array[coalesce(site_slug, 'none')]
        when 'need' then (case when cardinality(needs) = 0 then array['none'] else needs end)
    end
) as k(key)
where $2::text[] is null or force_code = any($2) or district_code = any($2)
order by 1
