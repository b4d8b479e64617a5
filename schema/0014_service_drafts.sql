-- A service being created or edited through the pages (issue 32): the document the editor's answers have built so
-- far (the same JSON the API takes), section by section, until "Check your answers" writes it through the API's
-- write path. A draft belongs to the session that started it and ends with it; it holds directory content only,
-- nothing about anyone referred. `base` is the service's document at the version the edit started from
-- (`base_version`), so that a concurrent change can be shown and this edit carried over onto it. `service_id` has
-- no foreign key: services are closed, never deleted, and a draft of one that has gone is refused when it is saved.
create table service_drafts (
    id            text primary key,
    session_id    text not null references sessions (id) on delete cascade,
    service_id    uuid,
    base_version  integer,
    base          jsonb,
    document      jsonb not null,
    done          jsonb not null default '[]',
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    check ((service_id is null) = (base_version is null))
);

create index service_drafts_by_session on service_drafts (session_id);
