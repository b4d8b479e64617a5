-- Reports of a problem with a listing (issue 33): anyone may say "this number is dead" about a service, with a coded
-- reason and an optional short note about the listing. Nothing about the reporter is kept (no address, no name, no
-- session) and nothing about anyone referred is asked for; the note is capped and shown only to the editors whose
-- scope covers the service. A report is open until an editor resolves or dismisses it with a coded reason, and is
-- deleted PATHWAYS_PROBLEM_REPORT_RETENTION_DAYS after it is closed (the audit below keeps who did what, without the
-- note).
create table problem_reports (
    id              uuid primary key,
    service_id      uuid not null references services (id) on delete cascade,
    service_version integer not null,
    reason          text not null check (reason in ('wrong_phone', 'closed', 'wrong_hours', 'wrong_eligibility', 'other')),
    note            text not null default '' check (length(note) <= 500),
    note_removed    boolean not null default false,
    status          text not null default 'open' check (status in ('open', 'resolved', 'dismissed')),
    made_at         timestamptz not null default now(),
    closed_at       timestamptz,
    closed_by       text,
    close_reason    text,
    check ((status = 'open') = (closed_at is null))
);
create index problem_reports_open on problem_reports (service_id) where status = 'open';
create index problem_reports_closed on problem_reports (closed_at) where status <> 'open';

-- What people do to keep the directory true, beyond the changes to records (which `changes` holds): a problem
-- reported, resolved, dismissed, or its note removed; a proposal made, approved or rejected; a service watched.
-- Who did it (the actor, as in `changes`), when, about which service, and coded details: never a note's text.
create table audit_events (
    id          bigserial primary key,
    at          timestamptz not null default now(),
    actor       text not null,
    action      text not null,
    service_id  uuid,
    subject     text not null default '',
    detail      jsonb not null default '{}'
);
create index audit_events_by_service on audit_events (service_id, id);
create index audit_events_by_actor on audit_events (actor, id);
