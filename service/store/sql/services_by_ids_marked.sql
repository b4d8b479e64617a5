select id, body::text as body, version, created_at, updated_at, xmin::text::bigint as xmin
from services where id = any($1::uuid[])
