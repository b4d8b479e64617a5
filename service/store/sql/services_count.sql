select count(*) from services
