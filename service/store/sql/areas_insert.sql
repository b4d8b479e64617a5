insert into areas (code, kind, name, boundary, min_lon, min_lat, max_lon, max_lat)
values ($1, $2, $3, $4, $5, $6, $7, $8)
returning code, kind, name, boundary, version, updated_at
