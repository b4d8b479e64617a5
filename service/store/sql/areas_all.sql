select code, kind, name, boundary, version, updated_at from areas order by code
