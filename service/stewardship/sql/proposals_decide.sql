-- Decide an open proposal (a decided one stays as it was: the caller reports the conflict).
update proposals set status = $2, decided_at = $3, decided_by = $4, reject_reason = $5, version = $6
where id = $1 and status = 'open'
returning id
