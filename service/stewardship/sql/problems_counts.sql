-- Open reports by service, for the editors' list.
select service_id, count(*) as open from problem_reports where status = 'open' group by service_id
