-- Embed keys: a stream's live widgets framed in its team's own tools, read-only unless the key
-- may send. The key itself is stored only as its sha-256.
create table embed_keys (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    stream_id text not null references streams (id) on delete cascade,
    name text not null,
    -- the origins (scheme://host[:port]) that may frame the widgets, space-separated
    origins text not null,
    can_send bigint not null check (can_send in (0, 1)),
    -- whether the messages widget shows whole phone numbers
    shows_numbers bigint not null check (shows_numbers in (0, 1)),
    key_hash text not null unique,
    -- the key's first characters, so a person can tell keys apart
    key_hint text not null,
    expires_at bigint,
    revoked_at bigint,
    created_at bigint not null,
    last_used_at bigint
);
create index embed_keys_stream on embed_keys (stream_id, created_at);
