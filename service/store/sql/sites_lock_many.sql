select id from sites where id = any($1::uuid[]) order by id for update
