select * from referrals where id = $1 for update
