-- Anonymous referral outcomes (issue 14): what was referred where, and what happened, with nothing that identifies
-- the person: an age band (never an age), a gender, need and circumstance codes, a coded repeat-contact flag, and
-- no free text anywhere. The origin is kept as a site (a custody suite) or as the district and force of a point;
-- never the point itself. Times are kept to the hour.
--
-- Two roles: `referrer` records referrals in its areas; `analyst` reads reports for its areas.

alter table api_keys drop constraint api_keys_role_check;
alter table api_keys add constraint api_keys_role_check
    check (role in ('reader', 'editor', 'provider', 'admin', 'analyst', 'referrer'));

create table referrals (
    id              uuid primary key,
    service_id      uuid not null,
    service_slug    text not null,
    service_name    text not null,
    site_id         uuid,
    site_slug       text,
    force_code      text,
    district_code   text,
    context         text not null check (context in ('custody', 'street', 'court', 'community')),
    made_at         timestamptz not null check (made_at = date_trunc('hour', made_at)),
    age_band        text not null check (age_band in ('under_18', '18_20', '21_24', '25_34', '35_54', '55_plus')),
    gender          text not null check (gender in ('female', 'male', 'non_binary', 'other', 'not_stated')),
    needs           text[] not null default '{}',
    circumstances   text[] not null default '{}',
    repeat_contact  text not null check (repeat_contact in ('yes', 'no', 'unknown')),
    outcome         text not null
        check (outcome in ('made', 'accepted', 'declined', 'did_not_engage', 'completed')),
    decline_reason  text check (decline_reason in ('not_eligible', 'no_capacity', 'declined_by_person', 'other')),
    check ((outcome = 'declined') = (decline_reason is not null)),
    synthetic       boolean not null default false,
    version         integer not null,
    recorded_by     text not null,
    updated_at      timestamptz not null
);
create index referrals_made_at on referrals (made_at);
create index referrals_service on referrals (service_id, made_at);
create index referrals_force on referrals (force_code, made_at);

-- Who changed a referral's outcome, and when: one row per version, deleted with the referral.
create table referral_events (
    referral_id     uuid not null references referrals (id) on delete cascade,
    version         integer not null,
    at              timestamptz not null default now(),
    actor           text not null,
    outcome         text not null,
    decline_reason  text,
    primary key (referral_id, version)
);

-- Demand: how often searches met each gap, per ISO week (its Monday), area, context, pathway step and reason.
-- No person attributes. step 'any' with reason 'SEARCHES' counts the searches themselves.
create table gap_demand (
    week        date not null,
    area_code   text not null,
    context     text not null,
    step        text not null,
    reason      text not null,
    count       bigint not null check (count > 0),
    primary key (week, area_code, context, step, reason)
);
