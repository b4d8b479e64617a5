insert into sites (id, slug, name, kind, lon, lat, area_codes)
values ($1, $2, $3, $4, $5, $6, $7)
returning id, slug, name, kind, lon, lat, area_codes, version, updated_at
