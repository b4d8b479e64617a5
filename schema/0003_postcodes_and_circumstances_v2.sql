-- Postcode centroids for resolving an origin offline, and circumstances v2 (adds the exceptional case in which
-- a police station may be an adult's place of safety).

create table postcode_centroids (
    code        text primary key check (code ~ '^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9])?$'),
    kind        text not null check (kind in ('outcode', 'sector')),
    lon         double precision not null check (lon between -180 and 180),
    lat         double precision not null check (lat between -90 and 90)
);

insert into taxonomies (name, version, published) values ('circumstances', 2, '2026-11-22');

insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme)
select taxonomy, 2, position, code, label, definition, theme
from taxonomy_terms where taxonomy = 'circumstances' and version = 1;

insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme) values
    ('circumstances', 2, 12, 'imminent_serious_harm', 'Imminent risk of serious harm',
     'Behaviour poses an imminent risk of serious injury or death, and no other place of safety can be reasonably '
     'obtained: the only case in which a police station may be an adult''s place of safety.', 'Now');
