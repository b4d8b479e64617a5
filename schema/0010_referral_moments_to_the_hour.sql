-- A referral record keeps its moments to the hour, as made_at always was: its last change (updated_at) and each
-- outcome's moment in its history (referral_events.at) were kept to the microsecond, which any key that may read
-- the record saw. What earlier versions stored is cut to the hour (UTC), and checks keep anything finer out.
update referrals set updated_at = date_trunc('hour', updated_at, 'UTC')
where updated_at <> date_trunc('hour', updated_at, 'UTC');
update referral_events set at = date_trunc('hour', at, 'UTC') where at <> date_trunc('hour', at, 'UTC');

alter table referrals add constraint referrals_updated_at_to_the_hour
    check (updated_at = date_trunc('hour', updated_at, 'UTC'));
alter table referral_events alter column at set default date_trunc('hour', now(), 'UTC');
alter table referral_events add constraint referral_events_at_to_the_hour
    check (at = date_trunc('hour', at, 'UTC'));
