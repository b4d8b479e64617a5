select * from referrals where id = $1
