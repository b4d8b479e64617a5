-- Closed reports past their retention period ($1: closed before this moment).
delete from problem_reports where status <> 'open' and closed_at < $1
