-- Retention: referrals made before $1 go, with their history (referral_events cascade).
with gone as (delete from referrals where made_at < $1 returning 1) select count(*)::int from gone
