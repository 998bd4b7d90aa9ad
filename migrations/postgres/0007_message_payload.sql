-- The channel's own request body, for messages that are more than text (WhatsApp).
alter table messages add column payload text;
