insert into service_drafts (id, session_id, service_id, base_version, base, document, done)
values ($1, $2, $3, $4, $5, $6, $7)
