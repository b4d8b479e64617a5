-- Changes to watched services by transactions in [$1, $2): the notifier's window (0019_notice_order.sql).
select c.id, c.at, c.actor, c.entity_key, c.version, c.fields from changes c
where c.xact >= $1::text::xid8 and c.xact < $2::text::xid8 and c.entity = 'service'
  and c.entity_key in (select service_id::text from service_watches)
order by c.id
