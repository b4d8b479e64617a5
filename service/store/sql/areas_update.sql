update areas
set kind = $2, name = $3, boundary = $4, min_lon = $5, min_lat = $6, max_lon = $7, max_lat = $8,
    version = version + 1, updated_at = now()
where code = $1
returning code, kind, name, boundary, version, updated_at
