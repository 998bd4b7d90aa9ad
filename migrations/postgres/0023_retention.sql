-- Retention (`[retention]`): message bodies redacted after some days, messages and webhook
-- deliveries deleted after more.
-- When the message's text (and WhatsApp payload) was removed; null while it is kept.
alter table messages add column redacted_at bigint;
-- How far each stream's rows have been redacted, by creation time in ms: a pass starts there
-- instead of reading again what it redacted before.
create table retention_marks (
    stream_id text primary key references streams (id) on delete cascade,
    messages_redacted_to bigint not null,
    webhooks_redacted_to bigint not null
);
-- Deleting a message deletes its OTP code: found by this index rather than a scan per message.
create index otp_codes_message on otp_codes (message_id);
