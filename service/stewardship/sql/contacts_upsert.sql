insert into notice_contacts (who, name, email, identity, key_hash, problem_reports, review_digest, updated_at)
values ($1, $2, $3, $4, $5, $6, $7, $8)
on conflict (who) do update set name = excluded.name, email = excluded.email, identity = excluded.identity,
    key_hash = excluded.key_hash, problem_reports = excluded.problem_reports, review_digest = excluded.review_digest,
    updated_at = excluded.updated_at
