-- A console session also ends after a while without use: when it was last seen, updated at
-- most once a minute.
alter table sessions add column last_seen_at bigint not null default 0;
update sessions set last_seen_at = created_at;
