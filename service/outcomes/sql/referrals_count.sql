select count(*)::int from referrals
