-- Circumstances v4: already on the caseload of the service offered, which a caseload-only service (Serenity
-- Integrated Mentoring, a community mental health team's crisis plan) requires: a stranger in crisis is not offered it.

insert into taxonomies (name, version, published) values ('circumstances', 4, '2026-12-07');

insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme)
select taxonomy, 4, position, code, label, definition, theme
from taxonomy_terms where taxonomy = 'circumstances' and version = 3;

insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme) values
    ('circumstances', 4, 15, 'on_service_caseload', 'Already on the service''s caseload',
     'Already known to and on the caseload of the service in question (e.g. a Serenity Integrated Mentoring '
     'client, or someone with a crisis plan held by the team). A service that takes only its own caseload requires '
     'it; tick it only when the person says, or records show, that they are on that service''s caseload.', 'History');
