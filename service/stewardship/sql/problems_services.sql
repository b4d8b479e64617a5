-- The services with reports, open ($1 = 'open') or closed: whose queue each belongs to is judged per service.
select distinct service_id from problem_reports where ($1 = 'open') = (status = 'open')
