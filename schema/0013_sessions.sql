-- Sessions for people signed in to the pages (issue 32): kept here, so that every replica sees them, and signing out
-- or revoking the key ends them everywhere at the next request. The cookie's token is never stored, only its SHA-256.
-- A session made from an API key names the key by its hash (as api_keys holds it), and is checked against it at every
-- request; one made by the deployment's OpenID Connect provider holds the identity its ID token gave (role, areas,
-- services, name), and lasts until signed out, idle or past its lifetime.
create table sessions (
    id          text primary key,
    key_hash    text,
    identity    jsonb,
    csrf        text not null,
    created_at  timestamptz not null default now(),
    seen_at     timestamptz not null default now(),
    expires_at  timestamptz not null,
    check ((key_hash is null) <> (identity is null))
);

create index sessions_by_key on sessions (key_hash);
create index sessions_by_expiry on sessions (expires_at);

-- An OpenID Connect sign-in under way: its state (by SHA-256), nonce and PKCE verifier, for the ten minutes the
-- person may take at the identity provider. Used once: the callback deletes it.
create table sign_in_attempts (
    id          text primary key,
    nonce       text not null,
    verifier    text not null,
    created_at  timestamptz not null default now()
);
