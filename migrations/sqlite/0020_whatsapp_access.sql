-- Accounts that asked for WhatsApp streams while the operator keeps them behind Request Access
-- (`[features] whatsapp = "request"`), and when the operator granted it.
create table whatsapp_access (
    account_id text primary key references accounts (id) on delete cascade,
    requested_at bigint not null,
    granted_at bigint
);
