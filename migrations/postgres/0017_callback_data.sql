-- The caller's own data for a message (up to 1,000 characters), echoed in its webhook events and
-- in /status/.
alter table messages add column callback_data text;
