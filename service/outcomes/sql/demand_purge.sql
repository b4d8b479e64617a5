with gone as (delete from gap_demand where week < $1 returning 1) select count(*)::int from gone
