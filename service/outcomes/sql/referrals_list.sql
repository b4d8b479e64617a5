-- $1 areas (null: any), $2 services (null: any), $3 service id, $4 outcome, $5 limit, $6 offset
select *, count(*) over () as total from referrals
where ($1::text[] is null or force_code = any($1) or district_code = any($1))
  and ($2::uuid[] is null or service_id = any($2))
  and ($3::uuid is null or service_id = $3)
  and ($4::text is null or outcome = $4)
order by made_at desc, id
limit $5 offset $6
