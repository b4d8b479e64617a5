-- Candidate areas whose bounding box holds the point ($1 lon, $2 lat); the caller tests the boundary.
select code, kind, name, boundary, version, updated_at from areas
where min_lon <= $1 and max_lon >= $1 and min_lat <= $2 and max_lat >= $2
order by code
