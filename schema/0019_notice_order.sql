-- The notifier (service/stewardship/notify.py) reads the change log and the audit by the transaction that wrote each
-- row, not by its id: ids are handed out as rows are inserted, but transactions commit in another order (an import
-- writes thousands of rows in one), so a cursor on ids could pass a row that commits later. Every transaction older
-- than the oldest one still running has finished; the notifier reads the rows of those it has not read yet, and
-- moves its cursor to that oldest one. Rows already written belong to this migration's transaction, before the cursors.
alter table changes add column xact xid8 not null default pg_current_xact_id();
alter table audit_events add column xact xid8 not null default pg_current_xact_id();
create index changes_by_xact on changes (xact);
create index audit_events_by_xact on audit_events (xact);
delete from notice_cursors;
insert into notice_cursors (name, last_id) values ('xact', pg_current_xact_id()::text::bigint + 1);
