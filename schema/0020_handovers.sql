-- Handovers (Right Care, Right Person, 2023: police hand a person in mental-health crisis over to health within one
-- hour). A referral may carry one: only the whole minutes from arrival to handover and the hour of arrival, never
-- either time of day to the minute. Both or neither. The hour is cut as made_at is (UTC; London's offsets are whole
-- hours, so the London month of the hour is the arrival's).
alter table referrals add column handover_minutes integer check (handover_minutes >= 0);
alter table referrals add column handover_arrived_hour timestamptz
    check (handover_arrived_hour = date_trunc('hour', handover_arrived_hour, 'UTC'));
alter table referrals add constraint referrals_handover_whole
    check ((handover_minutes is null) = (handover_arrived_hour is null));
create index referrals_handover on referrals (handover_arrived_hour) where handover_minutes is not null;

-- The history says what each version changed: the referral made (version 1), its outcome, or its handover; a
-- handover's event keeps what was recorded, so that a correction leaves both, as outcomes do.
alter table referral_events add column kind text not null default 'outcome'
    check (kind in ('made', 'outcome', 'handover'));
update referral_events set kind = 'made' where version = 1;
alter table referral_events add column handover_minutes integer check (handover_minutes >= 0);
alter table referral_events add column handover_arrived_hour timestamptz
    check (handover_arrived_hour = date_trunc('hour', handover_arrived_hour, 'UTC'));
alter table referral_events add constraint referral_events_handover_whole
    check ((handover_minutes is null) = (handover_arrived_hour is null));
alter table referral_events add constraint referral_events_handover_kept
    check (kind <> 'handover' or handover_minutes is not null);
