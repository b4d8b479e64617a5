-- Change notifications for partners (issue 35): webhooks a key holder registers, and the log of their deliveries.
-- The service is service/partners/. A subscription belongs to the API key that registered it (`key_id`, an
-- api_keys id: keys are revoked, never deleted, and a revoked key's subscriptions receive nothing more). Its
-- `secret` signs each delivery (the Standard Webhooks scheme); it is kept as it is, since signing needs it whole, and
-- shown only once, in the answer to the registration. No foreign key reaches the directory's tables, whose test
-- fixtures truncate them: a delivery names its change and service by id only.
create table webhook_subscriptions (
    id          uuid primary key,
    key_id      uuid not null,
    url         text not null check (length(url) between 1 and 2000),
    events      text[] not null check (cardinality(events) between 1 and 10),
    services    uuid[] not null default '{}',
    secret      text not null,
    active      boolean not null default true,
    -- What had been written when it was registered: every change not visible in this snapshot is sent it (one from
    -- a transaction still running then, committing later, included), none of those already visible.
    since       pg_snapshot not null default pg_current_snapshot(),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    unique (key_id, url)
);

-- One row per subscription and change: the unique pair is what keeps one change from being sent twice to one
-- receiver, however many replicas read the change log. A retry is the same row (the same webhook-id, the same body).
-- `body` is what is sent, a thin event (ids, slug, version, links): never a record, a phone number or a person.
-- Nothing of the receiver's answer is kept but its status code, and a few words for a failure.
create table webhook_deliveries (
    id              uuid primary key,
    subscription_id uuid not null references webhook_subscriptions (id) on delete cascade,
    change_id       bigint,
    event_type      text not null,
    service_id      uuid,
    body            text not null,
    status          text not null default 'pending'
                    check (status in ('pending', 'sending', 'delivered', 'failed')),
    attempts        integer not null default 0,
    last_status     integer,
    last_error      text check (length(last_error) <= 200),
    next_attempt_at timestamptz not null default now(),
    claimed_at      timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    unique (subscription_id, change_id)
);
create index webhook_deliveries_log on webhook_deliveries (subscription_id, created_at desc, change_id desc, id desc);
create index webhook_deliveries_finished on webhook_deliveries (updated_at) where status in ('delivered', 'failed');

-- How far the dispatcher has read the change log, by the transaction that wrote each row (as the notifier reads it,
-- 0019_notice_order.sql): changes written before this migration are history, not news.
create table webhook_cursor (
    name     text primary key,
    last_id  bigint not null
);
insert into webhook_cursor (name, last_id) values ('xact', pg_current_xact_id()::text::bigint + 1);
