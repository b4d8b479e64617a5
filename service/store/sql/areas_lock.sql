select code, kind, name, boundary, version, updated_at from areas where code = $1 for update
