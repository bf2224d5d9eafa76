-- 002-decision-log-time-index.sql -- decision_log is indexed by time only.
--
-- Every relay decision adds a row, on the mail path's own machine, at the
-- rate mail arrives. Each index on the table is one more B-tree updated
-- per row, and an index led by client_ip or sasl_username puts each row
-- at a different place in its tree: with a few hundred distinct client
-- addresses every batch rewrote a page per address. Measured (one core,
-- 1000-row transactions, 512 KiB cache): 23 us per row with the four
-- indexes of 001 and 500 client addresses, 6 us with 3 addresses, 3 us
-- with the time index alone, whatever the addresses.
--
-- The audit questions are asked over a time window (sql/audit.sql,
-- authrelayctl audit --since): the ts index finds the window and the
-- other filters are checked on its rows. On a year of decisions
-- (10 million rows, tests/bench/audit.sh) every ready query stays well
-- under a second. A search without a time bound reads the whole table
-- (0.7 s for 10 million rows with a warm cache, same bench); a site that wants such searches fast may add its own
-- index and pay for it on every decision.
DROP INDEX IF EXISTS decision_log_ip;
DROP INDEX IF EXISTS decision_log_user;
DROP INDEX IF EXISTS decision_log_verdict;
