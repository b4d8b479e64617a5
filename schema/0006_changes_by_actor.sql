-- An admin reviewing what one key or token wrote (GET /v1/changes?actor=…) reads the change log by actor.
create index changes_actor on changes (actor, id);
