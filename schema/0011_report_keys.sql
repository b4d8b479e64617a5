-- Every referral record and every demand counter gets a random key, never shown to anyone. A report adds up the keys
-- of the records behind each count it publishes to decide which way that count is rounded (the cell key of the ONS's
-- cell-key method; service/domain/suppression.py), so that the same records are always rounded the same way, in
-- every table, and no reader can tell which way. Records already kept get a key each (a volatile default is worked
-- out row by row).
alter table referrals add column report_key integer not null default floor(random() * 1000000)::integer
    check (report_key >= 0 and report_key < 1000000);
alter table gap_demand add column report_key integer not null default floor(random() * 1000000)::integer
    check (report_key >= 0 and report_key < 1000000);
