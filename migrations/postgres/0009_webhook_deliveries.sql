-- Events waiting for, or done with, delivery to a stream's webhook: one row per event (its id is
-- the `webhook-id` header), one attempts row per HTTP try.
create table webhook_deliveries (
    id text primary key,
    account_id text not null,
    stream_id text not null references streams (id) on delete cascade,
    event text not null,
    body text not null,
    status text not null check (status in ('pending', 'delivered', 'failed')),
    attempts bigint not null default 0,
    next_at bigint,
    lease_until bigint,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null
);
create index webhook_deliveries_due on webhook_deliveries (next_at) where next_at is not null;
create index webhook_deliveries_stream on webhook_deliveries (stream_id, created_at);

create table webhook_attempts (
    id text primary key,
    delivery_id text not null references webhook_deliveries (id) on delete cascade,
    at bigint not null,
    status_code bigint,
    latency_ms bigint not null,
    response text,
    error text
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id, at);
