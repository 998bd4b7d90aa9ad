-- Finds a stream's messages still on their way, for its Sending status.
create index messages_stream_in_flight on messages (stream_id) where next_at is not null;
