select who, name, email, identity, key_hash, problem_reports, review_digest from notice_contacts order by who
