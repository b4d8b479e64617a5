select t.version, t.published, tt.code, tt.label, tt.definition, tt.theme
from taxonomies t
join taxonomy_terms tt on tt.taxonomy = t.name and tt.version = t.version
where t.name = $1
  and t.version = (select max(version) from taxonomies where name = $1)
order by tt.position
