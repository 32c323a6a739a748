-- An uploaded file between preview and commit: the web tier keeps no files of its own,
-- so several app instances can share one database.
CREATE TABLE pending_imports (
    id          INTEGER PRIMARY KEY,
    uploaded_by INTEGER NOT NULL REFERENCES users(id),
    file_name   TEXT NOT NULL,
    kind        TEXT,
    village_id  INTEGER REFERENCES villages(id),
    content     BLOB NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX pending_imports_created ON pending_imports(created_at);
