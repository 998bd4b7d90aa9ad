-- Guards against SMS pumping: the countries (E.164 calling-code prefixes, comma-separated; empty
-- for every country) a stream sends to, and per OTP stream a cap of codes an hour and of codes
-- to one number range (all but the last three digits) in ten minutes.
alter table streams add column allowed_countries text not null default '';
alter table otp_settings add column per_stream_hour bigint not null default 1000;
alter table otp_settings add column per_range_burst bigint not null default 10;

create index otp_codes_stream on otp_codes (stream_id, created_at);
