select id, at, actor, action, service_id, subject from audit_events where id > $1 order by id limit $2
