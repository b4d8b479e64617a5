-- One registration at a time per key, so that two at once cannot both pass the limit on how many a key may have.
select pg_advisory_xact_lock(hashtextextended('webhooks:' || $1::uuid::text, 0))
