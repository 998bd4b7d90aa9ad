-- One-time passwords sent through OTP streams: the code only as a hash, single use.

create table otp_codes (
    -- the otp_id callers verify with
    id text primary key,
    stream_id text not null references streams (id) on delete cascade,
    message_id text not null references messages (id) on delete cascade,
    recipient text not null,
    -- sha-256 of the id and the code: never the code itself
    code_hash text not null,
    failures bigint not null,
    max_failures bigint not null,
    expires_at bigint not null,
    verified_at bigint,
    created_at bigint not null
);

create index otp_codes_recipient on otp_codes (stream_id, recipient, created_at);
