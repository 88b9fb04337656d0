-- The operations console (issue 17): operators' accounts, their sessions, and the audit log of every
-- change made from the console, the CLI or the admin API. Every role's store carries these tables, as
-- each role has its own console on its admin listener.
--
-- password_hash is an argon2id hash in PHC form ($argon2id$v=19$m=…,t=…,p=…$salt$hash). totp_secret
-- is sealed with the role's vault keys when it has them (prefix "v:"), otherwise stored as it is
-- ("p:"), and is NULL until the account enrols a second factor. totp_last_step is the last 30-second
-- step a code was accepted for, so that a code is used once. failed_attempts counts consecutive
-- failures (password or code); reaching the limit sets locked_until.
CREATE TABLE console_accounts (
    name            TEXT PRIMARY KEY,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,
    totp_confirmed  INTEGER NOT NULL DEFAULT 0,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    disabled        INTEGER NOT NULL DEFAULT 0,
    last_sign_in    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

-- A session is known by the SHA-256 (hex) of its cookie's token, never the token itself. stage is
-- 'second-factor' between a right password and a right code, then 'signed-in'. csrf is the token
-- every form of the session carries. flash is one notice for the next page shown.
CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    account      TEXT NOT NULL REFERENCES console_accounts (name) ON DELETE CASCADE,
    stage        TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    flash        TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;
CREATE INDEX console_sessions_account_idx ON console_sessions (account);
CREATE INDEX console_sessions_expires_idx ON console_sessions (expires_at);

-- One row per change. via is console, cli or api; actor is the account, the operating-system user
-- or the API token's name; action is a short verb phrase ("cardholder.unlock"); target names what
-- changed; detail is free text that never holds card data or secrets.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    via     TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    remote  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at_idx ON audit_log (at);
