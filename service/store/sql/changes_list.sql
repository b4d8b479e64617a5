select id, at, actor, entity, entity_key, operation, version, fields
from changes
where id > $1
  and ($2::text is null or actor = $2)
  and ($3::text is null or actor like $3 escape '\')
  and ($4::text is null or entity = $4)
order by id
limit $5
