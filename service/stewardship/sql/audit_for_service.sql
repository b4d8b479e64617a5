select at, actor, action, subject, detail from audit_events where service_id = $1 order by id desc limit $2
