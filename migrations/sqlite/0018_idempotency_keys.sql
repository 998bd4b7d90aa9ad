-- Idempotency-Key: the first answer to a POST of the API, per stream and key, for 24 hours.
create table idempotency_keys (
    stream_id text not null references streams (id) on delete cascade,
    idempotency_key text not null,
    -- sha-256 of the path and body the key was first used with
    fingerprint text not null,
    -- the answer, once the first request finished; null while it runs
    status bigint,
    body text,
    -- while the first request runs, until when it holds the key (a crashed one lets go)
    locked_until bigint not null,
    expires_at bigint not null,
    primary key (stream_id, idempotency_key)
);
create index idempotency_keys_expires on idempotency_keys (expires_at);
