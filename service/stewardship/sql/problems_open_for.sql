select count(*) from problem_reports where service_id = $1 and status = 'open'
