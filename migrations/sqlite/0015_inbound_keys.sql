-- The key an SMS provider passes when it calls a stream's inbound address: random per stream,
-- sealed with the server's key, rotatable. Streams from before keep the key they had (derived
-- from the server's key), written here at start-up, so their providers go on working.
alter table streams add column inbound_key_sealed text;
