-- A stream's throughput limit: at most this many messages handed to the channel per second.
alter table streams add column max_rate integer;
