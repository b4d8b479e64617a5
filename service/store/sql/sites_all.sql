select id, slug, name, kind, lon, lat, area_codes, version, updated_at from sites order by slug
