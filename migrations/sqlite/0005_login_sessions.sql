-- Log-in sessions kept on the server: the cookie holds a random token, the table its
-- SHA-256, so that logging out, a password change or reset, deactivation and "log out
-- everywhere" end a session at once, even a stolen copy of the cookie.
CREATE TABLE login_sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX login_sessions_user ON login_sessions(user_id);
