-- Streams and what they are made of: sender IDs, tags, IP allow-lists.

create table sender_ids (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    value text not null,
    created_at bigint not null,
    unique (account_id, value)
);

create table tags (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    name text not null,
    unique (account_id, name)
);

create table streams (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    name text not null,
    description text not null,
    kind text not null,
    status text not null,
    -- the wizard step a draft reopens at
    wizard_step text not null,
    -- flags are 0/1 integers on both backends, so one query text reads them everywhere
    restricted bigint not null check (restricted in (0, 1)),
    demo bigint not null check (demo in (0, 1)),
    ip_acl_enabled bigint not null check (ip_acl_enabled in (0, 1)),
    -- null: the sender is chosen per request ("Customized")
    default_sender_id text references sender_ids (id) on delete set null,
    -- the API token, encrypted with the server's key, and its sha-256 for look-ups
    token_sealed text not null,
    token_hash text not null unique,
    created_at bigint not null,
    updated_at bigint not null,
    last_activity_at bigint
);

create index streams_account_created on streams (account_id, created_at);

create table stream_tags (
    stream_id text not null references streams (id) on delete cascade,
    tag_id text not null references tags (id) on delete cascade,
    primary key (stream_id, tag_id)
);

create table stream_ips (
    stream_id text not null references streams (id) on delete cascade,
    cidr text not null,
    primary key (stream_id, cidr)
);
