insert into proposals (id, service_id, base_version, base, document, proposed_by, made_at)
values ($1, $2, $3, $4, $5, $6, $7)
