insert into audit_events (at, actor, action, service_id, subject, detail) values ($1, $2, $3, $4, $5, $6)
