delete from notice_contacts where who = $1
