-- What each stream type adds: OTP settings, events, WhatsApp, the incoming-messages webhook,
-- and the test recipients a restricted stream may send to.

create table otp_settings (
    stream_id text primary key references streams (id) on delete cascade,
    code_source text not null,
    code_length bigint not null,
    ttl_seconds bigint not null,
    max_failures bigint not null,
    per_phone_hour bigint not null,
    per_phone_day bigint not null,
    template text not null,
    updated_at bigint not null
);

create table stream_events (
    id text primary key,
    stream_id text not null references streams (id) on delete cascade,
    event_key text not null,
    body text not null,
    -- null: the stream's default sender
    sender text,
    active bigint not null check (active in (0, 1)),
    created_at bigint not null,
    updated_at bigint not null,
    unique (stream_id, event_key)
);

create table whatsapp_settings (
    stream_id text primary key references streams (id) on delete cascade,
    business_account_id text not null,
    -- phone-number ids, comma-separated, in the order they were added
    phone_number_ids text not null,
    -- encrypted with the server's key; null until set
    access_token_sealed text,
    app_secret_sealed text,
    updated_at bigint not null
);

create table whatsapp_templates (
    stream_id text not null references streams (id) on delete cascade,
    name text not null,
    language text not null,
    body text not null,
    created_at bigint not null,
    primary key (stream_id, name, language)
);

create table webhooks (
    stream_id text primary key references streams (id) on delete cascade,
    method text not null,
    url text not null,
    -- JSON array of {"name", "value"}
    headers text not null,
    enabled bigint not null check (enabled in (0, 1)),
    -- the Standard Webhooks signing secret (whsec_…), encrypted with the server's key
    secret_sealed text not null,
    updated_at bigint not null
);

create table test_recipients (
    stream_id text not null references streams (id) on delete cascade,
    phone text not null,
    created_at bigint not null,
    primary key (stream_id, phone)
);
