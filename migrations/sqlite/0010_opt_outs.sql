-- Numbers that replied STOP (or UNSUBSCRIBE…) to a stream; START takes them off again.
create table opt_outs (
    stream_id text not null references streams (id) on delete cascade,
    phone text not null,
    created_at integer not null,
    primary key (stream_id, phone)
);
