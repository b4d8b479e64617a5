insert into postcode_centroids (code, kind, lon, lat) values ($1, $2, $3, $4)
on conflict (code) do update set kind = excluded.kind, lon = excluded.lon, lat = excluded.lat
