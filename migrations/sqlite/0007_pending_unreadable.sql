-- An upload whose reading failed in its worker (memory, time, a reader crash) is marked so
-- that reloading its preview does not start the same failing read again.
ALTER TABLE pending_imports ADD COLUMN unreadable BOOLEAN NOT NULL DEFAULT 0;
