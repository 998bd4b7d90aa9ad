-- A stream's throughput clock, in microseconds since the epoch: `next_free` is its earliest
-- free send slot; `planned_until` is where the turns told to messages sent back to wait end,
-- so the next ones queue behind them. Workers of every instance reserve slots here, so a
-- stream's limit holds however many send.
-- No foreign key: a worker pacing a message of a stream deleted meanwhile must not fail.
create table stream_pace (
    stream_id text primary key,
    next_free bigint not null,
    planned_until bigint not null
);
