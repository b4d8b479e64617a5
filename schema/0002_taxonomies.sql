-- Versioned code lists: the needs taxonomy and the circumstances list. A new version is a new migration that
-- inserts a whole new version; the highest version of each is the current one.

create table taxonomies (
    name        text not null check (name in ('needs', 'circumstances')),
    version     integer not null check (version > 0),
    published   date not null,
    primary key (name, version)
);

create table taxonomy_terms (
    taxonomy    text not null,
    version     integer not null,
    position    integer not null,
    code        text not null check (code ~ '^[a-z][a-z0-9_]*$'),
    label       text not null,
    definition  text not null,
    theme       text not null default '',
    primary key (taxonomy, version, code),
    foreign key (taxonomy, version) references taxonomies (name, version)
);

insert into taxonomies (name, version, published) values
    ('needs', 1, '2026-11-22'),
    ('circumstances', 1, '2026-11-22');

-- The vulnerabilities that Liaison and Diversion teams screen for, grouped by theme for forms.
insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme) values
    ('needs', 1, 1, 'mental_health', 'Mental health',
     'A mental health problem that needs assessment, treatment or support, not an immediate crisis.', 'Mental health'),
    ('needs', 1, 2, 'mental_health_crisis', 'Mental health crisis',
     'An acute crisis needing urgent assessment or a place of safety now (e.g. s136 MHA 1983).', 'Mental health'),
    ('needs', 1, 3, 'self_harm_suicide_risk', 'Self-harm or suicide risk',
     'Current self-harm, suicidal thoughts or a recent attempt.', 'Mental health'),
    ('needs', 1, 4, 'personality_disorder', 'Personality disorder',
     'A diagnosed or suspected personality disorder, including complex trauma presentations.', 'Mental health'),
    ('needs', 1, 5, 'learning_disability', 'Learning disability',
     'A significant, lifelong impairment of intellectual and adaptive functioning that began before adulthood.', 'Neurodiversity and communication'),
    ('needs', 1, 6, 'autism', 'Autism',
     'Diagnosed or suspected autism spectrum condition.', 'Neurodiversity and communication'),
    ('needs', 1, 7, 'adhd', 'ADHD',
     'Diagnosed or suspected attention deficit hyperactivity disorder.', 'Neurodiversity and communication'),
    ('needs', 1, 8, 'speech_language_communication', 'Speech, language and communication',
     'Difficulty understanding or using language, including during police interview.', 'Neurodiversity and communication'),
    ('needs', 1, 9, 'acquired_brain_injury', 'Acquired brain injury',
     'A brain injury after birth, e.g. from trauma, stroke or hypoxia, affecting cognition or behaviour.', 'Neurodiversity and communication'),
    ('needs', 1, 10, 'drugs', 'Drug use',
     'Harmful or dependent use of illicit or prescribed drugs.', 'Substance use'),
    ('needs', 1, 11, 'alcohol', 'Alcohol use',
     'Harmful or dependent drinking.', 'Substance use'),
    ('needs', 1, 12, 'trauma', 'Trauma',
     'Effects of past or current traumatic experience, including adverse childhood experiences.', 'Trauma and abuse'),
    ('needs', 1, 13, 'domestic_abuse', 'Domestic abuse',
     'Experiencing or having experienced domestic abuse, as victim or survivor.', 'Trauma and abuse'),
    ('needs', 1, 14, 'sexual_abuse', 'Sexual abuse or exploitation',
     'Experiencing or having experienced sexual violence, abuse or exploitation.', 'Trauma and abuse'),
    ('needs', 1, 15, 'housing', 'Housing',
     'Homeless, at risk of homelessness, or in unsafe or unstable housing.', 'Practical'),
    ('needs', 1, 16, 'debt_finance', 'Debt and money',
     'Debt, benefits or money problems.', 'Practical'),
    ('needs', 1, 17, 'employment_education', 'Employment, education and training',
     'Not in work, education or training and wanting support into it.', 'Practical'),
    ('needs', 1, 18, 'physical_health', 'Physical health',
     'A physical health condition needing attention, including pregnancy.', 'Practical'),
    ('needs', 1, 19, 'young_adult_maturity', 'Young adult maturity',
     'An 18-25-year-old whose maturity, or transition from youth services, affects what support fits.', 'Young people'),
    ('needs', 1, 20, 'gambling', 'Gambling',
     'Harmful gambling.', 'Substance use');

insert into taxonomy_terms (taxonomy, version, position, code, label, definition, theme) values
    ('circumstances', 1, 1, 'admits_offence', 'Admits the offence',
     'The person accepts responsibility for the offence, as diversion and out-of-court disposals require.', 'Offence'),
    ('circumstances', 1, 2, 'first_offence', 'First offence',
     'No previous convictions, cautions or out-of-court disposals.', 'Offence'),
    ('circumstances', 1, 3, 'known_to_yos', 'Previously known to YOS',
     'Previously supervised by a Youth Offending Service / Youth Justice Service.', 'History'),
    ('circumstances', 1, 4, 'on_probation', 'On probation',
     'Currently supervised by the Probation Service.', 'History'),
    ('circumstances', 1, 5, 'care_experienced', 'Care experienced',
     'Is or has been looked after by a local authority.', 'History'),
    ('circumstances', 1, 6, 'veteran', 'Armed forces veteran',
     'Has served in the UK armed forces.', 'History'),
    ('circumstances', 1, 7, 'intoxicated', 'Intoxicated',
     'Currently under the influence of alcohol or drugs to a degree that affects assessment.', 'Now'),
    ('circumstances', 1, 8, 'violence_risk', 'Risk of violence',
     'Currently presenting a risk of violence to others that staff must manage.', 'Now'),
    ('circumstances', 1, 9, 'physical_injury', 'Needs physical care',
     'Has an injury or physical condition needing medical care first (e.g. A&E).', 'Now'),
    ('circumstances', 1, 10, 'pregnant', 'Pregnant',
     'Is pregnant.', 'Now'),
    ('circumstances', 1, 11, 'no_fixed_abode', 'No fixed abode',
     'Has nowhere to stay tonight.', 'Now');
