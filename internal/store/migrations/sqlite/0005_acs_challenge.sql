-- The ACS browser challenge (issue 5). One row per challenge, written when the ARes says C, so that
-- any ACS instance can carry on a challenge another one started: the step it is at, the keyed hash of
-- the current code (never the code), and what the final CRes needs. The cardholder's destinations
-- are not copied here; the row names the chosen one by channel and index.
CREATE TABLE acs_challenges (
    acs_trans_id     TEXT PRIMARY KEY,
    notification_url TEXT NOT NULL,
    browser_language TEXT NOT NULL,
    merchant_name    TEXT NOT NULL,
    exponent         INTEGER NOT NULL,
    step             TEXT NOT NULL CHECK (step IN ('waiting', 'choose', 'code', 'done')),
    token            TEXT NOT NULL,
    session_data     TEXT NOT NULL,
    window_size      TEXT NOT NULL,
    channel          TEXT NOT NULL,
    dest_index       INTEGER NOT NULL,
    otp_state        TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    result           TEXT NOT NULL,
    version          INTEGER NOT NULL,
    ares_at          TEXT NOT NULL,
    last_activity    TEXT NOT NULL
) STRICT;
CREATE INDEX acs_challenges_due_idx ON acs_challenges (step, last_activity);

-- Failed code entries per card, across transactions, for the card lock. Rows older than the lock
-- window no longer count; an issuer unlocks a card by deleting its rows.
CREATE TABLE acs_otp_failures (
    pan_hash  TEXT NOT NULL,
    failed_at TEXT NOT NULL
) STRICT;
CREATE INDEX acs_otp_failures_pan_idx ON acs_otp_failures (pan_hash, failed_at);
