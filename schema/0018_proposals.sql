-- Proposed changes (issue 33): a change by someone who may propose but not publish (a provider, for its own
-- services; an editor where PATHWAYS_EDITS_NEED_REVIEW is set) is kept against the version it was made from,
-- until an editor who may change the service (or an admin) approves it, when it is written through the API's own
-- write path as a new version, or rejects it with a coded reason. `base` is the service's document at that version
-- and `document` the whole proposed one (the API's JSON), so that a proposal made against an older version can show
-- both changes and be made again on the current one. Directory content only: nothing about anyone referred.
create table proposals (
    id             uuid primary key,
    service_id     uuid not null references services (id) on delete cascade,
    base_version   integer not null,
    base           jsonb not null,
    document       jsonb not null,
    proposed_by    text not null,
    made_at        timestamptz not null default now(),
    status         text not null default 'open' check (status in ('open', 'approved', 'rejected')),
    decided_at     timestamptz,
    decided_by     text,
    reject_reason  text,
    version        integer,
    check ((status = 'open') = (decided_at is null))
);
create index proposals_open on proposals (service_id) where status = 'open';
