-- Circumstances v3: the mental vulnerability that makes an appropriate adult a legal requirement in police custody
-- (PACE Code C 1.4), and current youth justice supervision (the youth-to-adult transition at 18).

insert into taxonomies (name, version, published) values ('circumstances', 3, '2026-11-24');

insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme)
select taxonomy, 3, position, code, label, definition, theme
from taxonomy_terms where taxonomy = 'circumstances' and version = 2;

insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme) values
    ('circumstances', 3, 13, 'mentally_vulnerable', 'May be mentally vulnerable',
     'Any suspicion, or being told in good faith, that the person may be mentally disordered or otherwise mentally '
     'vulnerable, e.g. may not understand the significance of what is said to them (PACE Code C 1.4): an '
     'appropriate adult is then required in custody.', 'Now'),
    ('circumstances', 3, 14, 'youth_justice_supervision', 'Under youth justice supervision',
     'Currently supervised by a youth justice service (YOS/YJS), e.g. on a referral order or youth rehabilitation '
     'order.', 'History');
