select count(*) from proposals where service_id = $1 and proposed_by = $2 and status = 'open'
