insert into service_watches (service_id, who) values ($1, $2) on conflict do nothing
