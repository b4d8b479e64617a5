-- Sessions for people signed in to the pages (issue 32): kept here, so that every replica sees them, and signing out
-- or revoking the key ends them everywhere at the next request. The cookie's token is never stored, only its SHA-256;
-- the session names the key it was made from by the key's hash (as api_keys holds it).
create table sessions (
    id          text primary key,
    key_hash    text not null,
    csrf        text not null,
    created_at  timestamptz not null default now(),
    seen_at     timestamptz not null default now(),
    expires_at  timestamptz not null
);

create index sessions_by_key on sessions (key_hash);
create index sessions_by_expiry on sessions (expires_at);
