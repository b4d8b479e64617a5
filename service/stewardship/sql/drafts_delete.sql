delete from service_drafts where id = $1 and session_id = $2
