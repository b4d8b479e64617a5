-- Repeat contact without support: referrals flagged as repeat contact, and those of them whose outcome is not
-- accepted or completed, by area (force) and month, each with the sum of its records' report keys. $1 areas, $2 from,
-- $3 to (exclusive).
select
    coalesce(force_code, 'unknown') as area,
    to_char(made_at at time zone 'Europe/London', 'YYYY-MM') as month,
    count(*)::int as flagged,
    count(*) filter (where outcome not in ('accepted', 'completed'))::int as without_support,
    sum(report_key)::bigint as flagged_key,
    coalesce(sum(report_key) filter (where outcome not in ('accepted', 'completed')), 0)::bigint as without_key
from referrals
where repeat_contact = 'yes'
  and ($1::text[] is null or force_code = any($1) or district_code = any($1))
  and made_at >= $2 and made_at < $3
group by 1, 2
order by 1, 2
