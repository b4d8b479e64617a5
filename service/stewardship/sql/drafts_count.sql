select count(*) from service_drafts where session_id = $1
