-- Messages: the durable outbox workers deliver from, and the log the console shows.

create table messages (
    -- the message_uuid callers see
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    stream_id text not null references streams (id) on delete cascade,
    -- the caller's id, unique per stream: a replay answers the same message
    internal_id text,
    direction text not null,
    channel text not null,
    sender text,
    recipient text not null,
    content text not null,
    encoding text not null,
    segments bigint not null,
    status text not null,
    attempts bigint not null,
    error_code text,
    error_message text,
    -- when a worker should next act on it; null once nothing is left to do
    next_at bigint,
    -- a worker holds it until then; a crashed worker's lease runs out
    lease_until bigint,
    expires_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (stream_id, internal_id)
);

create index messages_due on messages (next_at) where next_at is not null;
create index messages_stream_created on messages (stream_id, created_at);
create index messages_account_created on messages (account_id, created_at);

create table message_history (
    message_id text not null references messages (id) on delete cascade,
    status text not null,
    at bigint not null,
    detail text
);

create index message_history_message on message_history (message_id, at);
