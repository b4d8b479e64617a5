insert into changes (actor, entity, entity_key, operation, version, fields)
values ($1, $2, $3, $4, $5, $6)
returning id
