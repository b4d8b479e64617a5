select id from services where slug = $1
