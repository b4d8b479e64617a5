-- API keys: random, shown once, stored only as a SHA-256 hash. Editors are scoped to areas; providers are linked
-- to the services whose capacity they may update.

create table api_keys (
    id          uuid primary key,
    name        text not null check (length(name) between 1 and 100),
    role        text not null check (role in ('reader', 'editor', 'provider', 'admin')),
    area_codes  text[] not null default '{}',
    service_ids uuid[] not null default '{}',
    key_hash    text not null unique,
    prefix      text not null,
    created_at  timestamptz not null default now(),
    created_by  text not null,
    revoked_at  timestamptz
);
