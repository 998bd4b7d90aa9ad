-- Upstream connections (an HTTP SMS provider, an SMPP SMSC) an account's non-demo SMS streams
-- send through, the provider's ids of messages (for delivery reports), and the parts of long
-- inbound messages waiting for the rest.
create table connections (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    name text not null,
    kind text not null check (kind in ('http', 'smpp')),
    -- JSON: the kind's settings, without the secret
    settings text not null,
    -- the auth header value (http) or password (smpp), encrypted with the server's key
    secret_sealed text,
    is_default bigint not null check (is_default in (0, 1)),
    -- 'unknown', 'up' or 'down', with what was seen last and when
    health text not null default 'unknown',
    health_detail text,
    health_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (account_id, name)
);
create index connections_account on connections (account_id, is_default);

-- null: the account's default connection
alter table streams add column connection_id text references connections (id) on delete set null;

alter table messages add column connection_id text;
-- the id the upstream gave the message (outbound) or sent it with (inbound)
alter table messages add column provider_id text;
create unique index messages_provider on messages (stream_id, direction, provider_id)
    where provider_id is not null;
-- an SMSC's delivery receipts name the message by its id on the session's connection
create index messages_connection_provider on messages (connection_id, provider_id)
    where provider_id is not null;

create table inbound_parts (
    stream_id text not null references streams (id) on delete cascade,
    sender text not null,
    reference text not null,
    total bigint not null,
    seq bigint not null,
    content text not null,
    created_at bigint not null,
    primary key (stream_id, sender, reference, seq)
);
