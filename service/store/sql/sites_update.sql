update sites
set slug = $2, name = $3, kind = $4, lon = $5, lat = $6, area_codes = $7, version = version + 1, updated_at = now()
where id = $1
returning id, slug, name, kind, lon, lat, area_codes, version, updated_at
