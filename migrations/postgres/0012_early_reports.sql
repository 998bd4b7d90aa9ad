-- Delivery reports that came before the send they report was recorded: an upstream may report
-- a message before the worker that sent it has committed the id the upstream answered. They
-- are applied once that id is recorded, and dropped after an hour if it never is.
create table early_reports (
    -- where the upstream's ids are unique: a stream's id (HTTP providers, WhatsApp) or an SMPP
    -- connection's id
    scope text not null,
    provider_id text not null,
    status text not null,
    detail text,
    received_at bigint not null,
    -- each status once: a message may be reported sent, then delivered, before either applies
    primary key (scope, provider_id, status)
);
