-- E-mail notifications (issue 33). A signed-in person (an editor, admin or provider: a key or an OpenID Connect
-- account) may give an address for mail about the services they keep: new problem reports, a daily digest of the
-- services due for review, and changes to services they watch. `identity` is their role and scope as they signed
-- in, judged again before each mail; a key's hash is kept so that a revoked key gets no more mail. The addresses are
-- the directory's own people, never anyone referred.
create table notice_contacts (
    who             text primary key,
    name            text not null,
    email           text not null check (length(email) <= 254),
    identity        jsonb not null,
    key_hash        text,
    problem_reports boolean not null default true,
    review_digest   boolean not null default true,
    updated_at      timestamptz not null default now()
);

create table service_watches (
    service_id  uuid not null references services (id) on delete cascade,
    who         text not null references notice_contacts (who) on delete cascade,
    created_at  timestamptz not null default now(),
    primary key (service_id, who)
);

-- How far the notifier has read the audit and the change log: it reads on from here, queues the mail and moves the
-- cursor in one transaction, so that nothing is sent twice and nothing is missed.
create table notice_cursors (
    name     text primary key,
    last_id  bigint not null
);
insert into notice_cursors (name, last_id) select 'changes', coalesce(max(id), 0) from changes;
insert into notice_cursors (name, last_id) select 'audit', coalesce(max(id), 0) from audit_events;
