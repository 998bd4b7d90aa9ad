-- 1: a demo stream's messages are all delivered and nobody replies at random, for
-- deterministic test suites; 0: some fail and some get replies at the `[delivery]` demo ratios.
-- Ofcom's scripted drama-range numbers keep their fate either way.
alter table streams add column demo_predictable bigint not null default 0
    check (demo_predictable in (0, 1));
