-- 003-decision-log-identity.sql -- each decision row's identity at its writer.
--
-- The decision writer (lib/store_writer.c) numbers the rows it queues:
-- writer is random per daemon process, writer_seq counts its rows. When
-- the connection breaks after a batch's INSERT was sent, the server
-- cannot say whether it committed, so the batch is sent again; this
-- unique key makes the copy a no-op (INSERT ... ON CONFLICT DO NOTHING),
-- so no row is written twice. Rows written before this migration, or
-- copied from SQLite, have NULLs, which a unique key never compares
-- equal. The decisions view and its columns are unchanged.
ALTER TABLE decision_log ADD COLUMN writer bigint, ADD COLUMN writer_seq bigint;
CREATE UNIQUE INDEX decision_log_writer ON decision_log (writer, writer_seq);
