-- Close an open report (a closed one stays as it was closed: the caller reports the conflict).
update problem_reports
set status = $2, closed_at = $3, closed_by = $4, close_reason = $5,
    note = case when $6 then '' else note end, note_removed = note_removed or ($6 and note <> '')
where id = $1 and status = 'open'
returning id
