select id, at, actor, operation, version, fields from changes
where entity = $1 and entity_key = $2
order by id
