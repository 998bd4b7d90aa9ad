-- A sign-in is recorded before its password is checked (so parallel guesses count), with an
-- id to take it back when it is refused unchecked; failures are keyed by email and client
-- network. Sign-ups are counted per client network.
alter table sign_in_failures add column id text;

create table sign_up_attempts (
    ip text not null,
    created_at bigint not null
);

create index sign_up_attempts_ip on sign_up_attempts (ip, created_at);
