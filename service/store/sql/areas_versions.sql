select code, version from areas order by code
