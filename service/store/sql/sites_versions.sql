select slug, version from sites order by slug
