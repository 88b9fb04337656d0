-- The ACS browser challenge (issue 5). One row per challenge, written when the ARes says C, so that
-- any ACS instance can carry on a challenge another one started: the step it is at, the keyed hash of
-- the current code (never the code), and what the final CRes needs. The cardholder's destinations
-- are not copied here; the row names the chosen one by channel and index.
CREATE TABLE acs_challenges (
    acs_trans_id     text PRIMARY KEY,
    notification_url text NOT NULL,
    browser_language text NOT NULL,
    merchant_name    text NOT NULL,
    exponent         integer NOT NULL,
    step             text NOT NULL CHECK (step IN ('waiting', 'choose', 'code', 'done')),
    token            text NOT NULL,
    session_data     text NOT NULL,
    window_size      text NOT NULL,
    channel          text NOT NULL,
    dest_index       integer NOT NULL,
    otp_state        text NOT NULL,
    message_id       text NOT NULL,
    result           text NOT NULL,
    version          integer NOT NULL,
    ares_at          timestamptz NOT NULL,
    last_activity    timestamptz NOT NULL
);
CREATE INDEX acs_challenges_due_idx ON acs_challenges (step, last_activity);

-- Failed code entries per card, across transactions, for the card lock. Rows older than the lock
-- window no longer count; an issuer unlocks a card by deleting its rows.
CREATE TABLE acs_otp_failures (
    pan_hash  text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX acs_otp_failures_pan_idx ON acs_otp_failures (pan_hash, failed_at);
