select id from sites where slug = $1
