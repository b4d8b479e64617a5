select exists (select 1 from service_watches where service_id = $1 and who = $2)
