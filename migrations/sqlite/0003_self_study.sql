-- Self-study (自学): a fifth import kind, and the records themselves.
--
-- SQLite cannot change a CHECK constraint in place, and sqlx runs this file inside a
-- transaction, where foreign keys cannot be switched off. So import_batches is rebuilt
-- with its foreign keys deferred: the rows referring to it stay where they are, the batch
-- rows are copied back under the same ids (which settles the deferred references before
-- the commit), and import_changes, which the drop empties by cascade, is copied back too.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE import_batches_before AS SELECT * FROM import_batches;
CREATE TEMP TABLE import_changes_before AS SELECT * FROM import_changes;

DROP TABLE import_batches;

CREATE TABLE import_batches (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('roster', 'attendance', 'materials', 'activities', 'self_study')),
    village_id    INTEGER REFERENCES villages(id),
    file_name     TEXT NOT NULL,
    file_sha256   TEXT NOT NULL,
    uploaded_by   INTEGER NOT NULL REFERENCES users(id),
    uploaded_at   TEXT NOT NULL,
    rows_total    INTEGER NOT NULL DEFAULT 0,
    created_count INTEGER NOT NULL DEFAULT 0,
    updated_count INTEGER NOT NULL DEFAULT 0,
    unchanged_count INTEGER NOT NULL DEFAULT 0,
    rejected_count  INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL CHECK (status IN ('committed', 'undone', 'failed')),
    report        TEXT NOT NULL DEFAULT '{}',
    undone_at     TEXT,
    undone_by     INTEGER REFERENCES users(id)
);
CREATE INDEX import_batches_sha ON import_batches(file_sha256);
CREATE INDEX import_batches_uploaded ON import_batches(uploaded_at);

INSERT INTO import_batches SELECT * FROM import_batches_before;
INSERT INTO import_changes SELECT * FROM import_changes_before;
DROP TABLE import_batches_before;
DROP TABLE import_changes_before;

CREATE TABLE self_study (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people(id),
    studied_on      TEXT NOT NULL,
    content         TEXT NOT NULL,
    form            TEXT NOT NULL CHECK (form IN ('reading', 'online', 'video', 'other')),
    hours           REAL NOT NULL CHECK (hours > 0 AND hours <= 24),
    notes           TEXT NOT NULL DEFAULT '',
    import_key      TEXT,
    import_batch_id INTEGER REFERENCES import_batches(id),
    created_by      INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX self_study_studied ON self_study(studied_on);
CREATE INDEX self_study_person ON self_study(person_id, studied_on);
CREATE UNIQUE INDEX self_study_import_key ON self_study(import_key) WHERE import_key IS NOT NULL;
