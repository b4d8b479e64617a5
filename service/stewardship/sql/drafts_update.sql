update service_drafts
set document = $3, done = $4, base_version = coalesce($5, base_version), base = coalesce($6, base), updated_at = now()
where id = $1 and session_id = $2
