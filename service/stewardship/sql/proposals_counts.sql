-- Open proposals by service, for the editors' list.
select service_id, count(*) as open from proposals where status = 'open' group by service_id
