select id, xmin::text::bigint as xmin from services
