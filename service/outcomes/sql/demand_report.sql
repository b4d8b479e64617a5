-- $1 areas (null: any), $2 from week, $3 to week (exclusive), $4 context or null
select week, area_code, context, step, reason, count::int as count, report_key from gap_demand
where ($1::text[] is null or area_code = any($1)) and week >= $2 and week < $3 and ($4::text is null or context = $4)
order by week, area_code, context, step, reason
