insert into problem_reports (id, service_id, service_version, reason, note, made_at)
values ($1, $2, $3, $4, $5, $6)
