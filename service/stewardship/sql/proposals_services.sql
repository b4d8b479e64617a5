-- The services with proposals, open ($1 = 'open') or decided: whose queue each belongs to is judged per service.
select distinct service_id from proposals where ($1 = 'open') = (status = 'open')
