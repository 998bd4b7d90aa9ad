-- Tenants, their console users, console sessions and failed sign-ins (for throttling).
-- Timestamps are milliseconds since the Unix epoch.

create table accounts (
    id text primary key,
    name text not null,
    created_at bigint not null
);

create table users (
    id text primary key,
    account_id text not null references accounts (id) on delete cascade,
    -- stored lowercase, so uniqueness is case-insensitive
    email text not null unique,
    password_hash text not null,
    role text not null,
    created_at bigint not null
);

create index users_account_id on users (account_id);

create table sessions (
    -- sha-256 of the cookie's token: a leaked database does not leak sessions
    token_hash text primary key,
    user_id text not null references users (id) on delete cascade,
    account_id text not null references accounts (id) on delete cascade,
    created_at bigint not null,
    expires_at bigint not null
);

create index sessions_expires_at on sessions (expires_at);

create table sign_in_failures (
    email text not null,
    ip text not null,
    created_at bigint not null
);

create index sign_in_failures_email on sign_in_failures (email, created_at);
create index sign_in_failures_ip on sign_in_failures (ip, created_at);
