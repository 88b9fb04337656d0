-- The ACS (issue 4): the issuers one ACS serves, their card ranges and cardholders, the device data the
-- 3DS Method gathered, every authentication it decided and the RReq outbox. A PAN is kept only sealed
-- (pan_sealed, AES-GCM bound to table, column and row) beside the id of the key that sealed it, and
-- is found by a keyed hash (pan_hash); masked_pan shows at most its first six and last four digits.
-- Times are text in one fixed-width UTC form, so that they sort as text.
CREATE TABLE acs_issuers (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    eci_style           TEXT NOT NULL CHECK (eci_style IN ('visa', 'mastercard')),
    authvalue_key_ref   TEXT NOT NULL,
    risk_policy         TEXT NOT NULL,
    not_enrolled_policy TEXT NOT NULL CHECK (not_enrolled_policy IN ('N', 'A')),
    no_challenge_policy TEXT NOT NULL CHECK (no_challenge_policy IN ('N', 'A')),
    decoupled           INTEGER NOT NULL CHECK (decoupled IN (0, 1)),
    otp_length          INTEGER NOT NULL,
    otp_ttl_seconds     INTEGER NOT NULL,
    otp_max_attempts    INTEGER NOT NULL,
    otp_max_resends     INTEGER NOT NULL,
    brand_name          TEXT NOT NULL,
    logo_url            TEXT NOT NULL,
    support_text        TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;

-- Card ranges hold 19-digit bounds (start padded with 0s, end with 9s) so that a PAN padded with 0s
-- falls in a range exactly when it sorts between the bounds as text.
CREATE TABLE acs_card_ranges (
    range_start TEXT NOT NULL,
    range_end   TEXT NOT NULL,
    issuer_id   TEXT NOT NULL REFERENCES acs_issuers (id) ON DELETE CASCADE,
    PRIMARY KEY (range_start, range_end)
) STRICT;
CREATE INDEX acs_card_ranges_issuer_idx ON acs_card_ranges (issuer_id);

CREATE TABLE acs_cardholders (
    id                TEXT PRIMARY KEY,
    issuer_id         TEXT NOT NULL REFERENCES acs_issuers (id),
    pan_sealed        TEXT NOT NULL,
    pan_key_id        INTEGER NOT NULL,
    pan_hash          TEXT NOT NULL UNIQUE,
    masked_pan        TEXT NOT NULL,
    expiry            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('enrolled', 'blocked', 'not_enrolled')),
    mobiles           TEXT NOT NULL,
    emails            TEXT NOT NULL,
    preferred_channel TEXT NOT NULL,
    locale            TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX acs_cardholders_issuer_idx ON acs_cardholders (issuer_id);
CREATE INDEX acs_cardholders_key_idx ON acs_cardholders (pan_key_id);

CREATE TABLE acs_device_data (
    three_ds_server_trans_id TEXT PRIMARY KEY,
    device_key               TEXT NOT NULL,
    ip                       TEXT NOT NULL,
    data                     TEXT NOT NULL,
    created_at               TEXT NOT NULL
) STRICT;

CREATE TABLE acs_transactions (
    acs_trans_id             TEXT PRIMARY KEY,
    three_ds_server_trans_id TEXT NOT NULL,
    ds_trans_id              TEXT NOT NULL,
    sdk_trans_id             TEXT NOT NULL,
    issuer_id                TEXT NOT NULL,
    cardholder_id            TEXT NOT NULL,
    pan_hash                 TEXT NOT NULL,
    masked_pan               TEXT NOT NULL,
    pan_sealed               TEXT NOT NULL,
    pan_key_id               INTEGER NOT NULL,
    message_version          TEXT NOT NULL,
    message_category         TEXT NOT NULL,
    device_channel           TEXT NOT NULL,
    ds_url                   TEXT NOT NULL,
    amount                   INTEGER NOT NULL,
    currency                 TEXT NOT NULL,
    merchant                 TEXT NOT NULL,
    device_key               TEXT NOT NULL,
    risk_score               INTEGER NOT NULL,
    reasons                  TEXT NOT NULL,
    live_decision            TEXT NOT NULL,
    shadow_decision          TEXT NOT NULL,
    trans_status             TEXT NOT NULL,
    trans_status_reason      TEXT NOT NULL,
    eci                      TEXT NOT NULL,
    authentication_value     TEXT NOT NULL,
    challenge_failed         INTEGER NOT NULL CHECK (challenge_failed IN (0, 1)),
    av_used_at               TEXT,
    created_at               TEXT NOT NULL,
    ended_at                 TEXT
) STRICT;
CREATE INDEX acs_transactions_pan_idx ON acs_transactions (pan_hash, created_at);
CREATE INDEX acs_transactions_server_idx ON acs_transactions (three_ds_server_trans_id);

-- One RReq waiting to reach the DS. A sender leases a row (lease_owner, lease_until) before sending
-- it, so that several ACS instances never send the same row at once, and a lease that runs out (a
-- crashed instance) frees the row for another.
CREATE TABLE acs_rreq_outbox (
    acs_trans_id    TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    lease_owner     TEXT NOT NULL,
    lease_until     TEXT NOT NULL,
    last_error      TEXT NOT NULL,
    results_status  TEXT NOT NULL,
    sent_at         TEXT,
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX acs_rreq_outbox_due_idx ON acs_rreq_outbox (sent_at, next_attempt_at);
