select id from services where id = any($1::uuid[])
