-- The whole schema of DESIGN.md. Later work adds features on these tables.
-- Dates and times are ISO-8601 text (written by chrono through sqlx), booleans 0/1.

CREATE TABLE villages (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('village', 'community')),
    code          TEXT UNIQUE,
    display_order INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'organizer', 'clerk', 'viewer')),
    village_id     INTEGER REFERENCES villages(id),
    active         BOOLEAN NOT NULL DEFAULT 1,
    calendar_token TEXT UNIQUE,
    created_at     TEXT NOT NULL,
    last_login_at  TEXT,
    CHECK ((role = 'clerk') = (village_id IS NOT NULL))
);

CREATE TABLE import_batches (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('roster', 'attendance', 'materials', 'activities')),
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

-- What a batch did to each row, so that undo can remove or restore it.
CREATE TABLE import_changes (
    id         INTEGER PRIMARY KEY,
    batch_id   INTEGER NOT NULL REFERENCES import_batches(id) ON DELETE CASCADE,
    table_name TEXT NOT NULL,
    row_id     INTEGER NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('created', 'updated')),
    before     TEXT
);
CREATE INDEX import_changes_batch ON import_changes(batch_id);

CREATE TABLE people (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    gender          TEXT CHECK (gender IN ('male', 'female')),
    village_id      INTEGER REFERENCES villages(id),
    post            TEXT NOT NULL DEFAULT '',
    phone           TEXT,
    id_number       TEXT,
    active          BOOLEAN NOT NULL DEFAULT 1,
    notes           TEXT NOT NULL DEFAULT '',
    import_batch_id INTEGER REFERENCES import_batches(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX people_id_number ON people(id_number) WHERE id_number IS NOT NULL;
CREATE INDEX people_village_name ON people(village_id, name);
CREATE INDEX people_name ON people(name);

CREATE TABLE person_categories (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    category        TEXT NOT NULL CHECK (category IN ('township_cadre', 'village_cadre', 'party_member',
                        'legal_literate', 'mediator', 'legal_adviser', 'grid_worker', 'group_leader', 'villager')),
    since           TEXT,
    until           TEXT,
    import_batch_id INTEGER REFERENCES import_batches(id),
    UNIQUE (person_id, category)
);
CREATE INDEX person_categories_category ON person_categories(category, since);

CREATE TABLE session_series (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    topic          TEXT NOT NULL,
    -- recurrence rule as JSON: weekly weekdays, monthly day or Nth weekday
    rule           TEXT NOT NULL,
    first_date     TEXT NOT NULL,
    until_date     TEXT,
    occurrences    INTEGER,
    village_id     INTEGER REFERENCES villages(id),
    created_by     INTEGER REFERENCES users(id),
    created_at     TEXT NOT NULL
);

CREATE TABLE sessions (
    id                    INTEGER PRIMARY KEY,
    series_id             INTEGER REFERENCES session_series(id),
    kind                  TEXT NOT NULL CHECK (kind IN ('pre_meeting', 'committee', 'lecture', 'training',
                              'collective', 'literate_training', 'other')),
    topic                 TEXT NOT NULL,
    starts_at             TEXT NOT NULL,
    ends_at               TEXT NOT NULL,
    venue                 TEXT NOT NULL DEFAULT '',
    speaker               TEXT NOT NULL DEFAULT '',
    organizer             TEXT NOT NULL DEFAULT '',
    village_id            INTEGER REFERENCES villages(id),
    hours_credited        REAL NOT NULL DEFAULT 0,
    status                TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'held', 'cancelled')),
    notes                 TEXT NOT NULL DEFAULT '',
    checkin_token         TEXT NOT NULL UNIQUE,
    checkin_reopened_until TEXT,
    import_batch_id       INTEGER REFERENCES import_batches(id),
    created_by            INTEGER REFERENCES users(id),
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    CHECK (ends_at >= starts_at)
);
CREATE INDEX sessions_starts ON sessions(starts_at);
CREATE INDEX sessions_village_starts ON sessions(village_id, starts_at);
CREATE INDEX sessions_series ON sessions(series_id);

CREATE TABLE session_invitees (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    PRIMARY KEY (session_id, person_id)
);
CREATE INDEX session_invitees_person ON session_invitees(person_id);

CREATE TABLE attendance (
    id              INTEGER PRIMARY KEY,
    session_id      INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    person_id       INTEGER NOT NULL REFERENCES people(id),
    status          TEXT NOT NULL CHECK (status IN ('present', 'late', 'excused', 'absent')),
    hours_credited  REAL NOT NULL DEFAULT 0,
    source          TEXT NOT NULL CHECK (source IN ('manual', 'import', 'self_checkin')),
    checked_in_at   TEXT,
    notes           TEXT NOT NULL DEFAULT '',
    import_batch_id INTEGER REFERENCES import_batches(id),
    updated_by      INTEGER REFERENCES users(id),
    updated_at      TEXT NOT NULL,
    UNIQUE (session_id, person_id)
);
CREATE INDEX attendance_person ON attendance(person_id);

-- Yearly study requirement per category (and optionally per session kind).
CREATE TABLE study_requirements (
    id           INTEGER PRIMARY KEY,
    category     TEXT NOT NULL,
    session_kind TEXT NOT NULL DEFAULT '',
    min_sessions INTEGER NOT NULL DEFAULT 0,
    min_hours    REAL NOT NULL DEFAULT 0,
    UNIQUE (category, session_kind)
);

CREATE TABLE materials (
    id              INTEGER PRIMARY KEY,
    title           TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL CHECK (kind IN ('booklet', 'leaflet', 'poster', 'book', 'banner', 'other')),
    unit            TEXT NOT NULL DEFAULT '份',
    notes           TEXT NOT NULL DEFAULT '',
    import_batch_id INTEGER REFERENCES import_batches(id),
    created_at      TEXT NOT NULL
);

CREATE TABLE stock_receipts (
    id              INTEGER PRIMARY KEY,
    material_id     INTEGER NOT NULL REFERENCES materials(id),
    received_on     TEXT NOT NULL,
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    source          TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    created_by      INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX stock_receipts_material ON stock_receipts(material_id, received_on);

CREATE TABLE activities (
    id              INTEGER PRIMARY KEY,
    held_on         TEXT NOT NULL,
    village_id      INTEGER REFERENCES villages(id),
    topic           TEXT NOT NULL,
    form            TEXT NOT NULL CHECK (form IN ('lecture', 'stall', 'consultation', 'performance', 'training', 'other')),
    place           TEXT CHECK (place IN ('organ', 'village', 'community', 'school', 'enterprise', 'institution', 'temple')),
    audience_count  INTEGER NOT NULL DEFAULT 0 CHECK (audience_count >= 0),
    speaker         TEXT NOT NULL DEFAULT '',
    venue           TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    import_key      TEXT,
    import_batch_id INTEGER REFERENCES import_batches(id),
    created_by      INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX activities_held ON activities(held_on);
CREATE INDEX activities_village_held ON activities(village_id, held_on);
CREATE UNIQUE INDEX activities_import_key ON activities(import_key) WHERE import_key IS NOT NULL;

CREATE TABLE activity_audience_groups (
    activity_id    INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    audience_group TEXT NOT NULL CHECK (audience_group IN ('youth', 'migrant_workers', 'remote_villages',
                       'enterprises', 'villagers', 'cadres')),
    PRIMARY KEY (activity_id, audience_group)
);

CREATE TABLE distributions (
    id              INTEGER PRIMARY KEY,
    material_id     INTEGER NOT NULL REFERENCES materials(id),
    distributed_on  TEXT NOT NULL,
    village_id      INTEGER REFERENCES villages(id),
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    recipients      TEXT NOT NULL DEFAULT '',
    place           TEXT NOT NULL DEFAULT '',
    handled_by      TEXT NOT NULL DEFAULT '',
    session_id      INTEGER REFERENCES sessions(id),
    activity_id     INTEGER REFERENCES activities(id) ON DELETE CASCADE,
    notes           TEXT NOT NULL DEFAULT '',
    import_key      TEXT,
    import_batch_id INTEGER REFERENCES import_batches(id),
    created_by      INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX distributions_date ON distributions(distributed_on);
CREATE INDEX distributions_village_date ON distributions(village_id, distributed_on);
CREATE INDEX distributions_material ON distributions(material_id);
CREATE INDEX distributions_activity ON distributions(activity_id);
CREATE UNIQUE INDEX distributions_import_key ON distributions(import_key) WHERE import_key IS NOT NULL;

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    user_id   INTEGER REFERENCES users(id),
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id INTEGER,
    before    TEXT,
    after     TEXT
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_at ON audit_log(at);

-- Failed-attempt counters (login per user name, self check-in per address), kept in the
-- database so that several app instances share them.
CREATE TABLE rate_limits (
    key            TEXT PRIMARY KEY,
    failures       INTEGER NOT NULL,
    last_failed_at TEXT NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
