-- Problem reports made by transactions in [$1, $2): the notifier's window (0019_notice_order.sql).
select id, action, service_id, subject from audit_events
where xact >= $1::text::xid8 and xact < $2::text::xid8 and action = 'problem_report.made'
order by id
