-- Add counts to the demand counters, one row per (week, area, context, step, reason).
insert into gap_demand (week, area_code, context, step, reason, count)
select * from unnest($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
on conflict (week, area_code, context, step, reason) do update set count = gap_demand.count + excluded.count
