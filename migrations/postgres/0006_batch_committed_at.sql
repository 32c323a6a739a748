-- When an import's transaction finished: rows updated after it were edited by hand, and an
-- undo must not overwrite them.
ALTER TABLE import_batches ADD COLUMN committed_at TIMESTAMPTZ;
