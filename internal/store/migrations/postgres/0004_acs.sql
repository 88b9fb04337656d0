-- The ACS (issue 4): the issuers one ACS serves, their card ranges and cardholders, the device data the
-- 3DS Method gathered, every authentication it decided and the RReq outbox. A PAN is kept only sealed
-- (pan_sealed, AES-GCM bound to table, column and row) beside the id of the key that sealed it, and
-- is found by a keyed hash (pan_hash); masked_pan shows at most its first six and last four digits.
-- Times are timestamptz.
CREATE TABLE acs_issuers (
    id                  text PRIMARY KEY,
    name                text NOT NULL,
    eci_style           text NOT NULL CHECK (eci_style IN ('visa', 'mastercard')),
    authvalue_key_ref   text NOT NULL,
    risk_policy         text NOT NULL,
    not_enrolled_policy text NOT NULL CHECK (not_enrolled_policy IN ('N', 'A')),
    no_challenge_policy text NOT NULL CHECK (no_challenge_policy IN ('N', 'A')),
    decoupled           bigint NOT NULL CHECK (decoupled IN (0, 1)),
    otp_length          bigint NOT NULL,
    otp_ttl_seconds     bigint NOT NULL,
    otp_max_attempts    bigint NOT NULL,
    otp_max_resends     bigint NOT NULL,
    brand_name          text NOT NULL,
    logo_url            text NOT NULL,
    support_text        text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Card ranges hold 19-digit bounds (start padded with 0s, end with 9s) so that a PAN padded with 0s
-- falls in a range exactly when it sorts between the bounds as text.
CREATE TABLE acs_card_ranges (
    range_start text NOT NULL,
    range_end   text NOT NULL,
    issuer_id   text NOT NULL REFERENCES acs_issuers (id) ON DELETE CASCADE,
    PRIMARY KEY (range_start, range_end)
);
CREATE INDEX acs_card_ranges_issuer_idx ON acs_card_ranges (issuer_id);

CREATE TABLE acs_cardholders (
    id                text PRIMARY KEY,
    issuer_id         text NOT NULL REFERENCES acs_issuers (id),
    pan_sealed        text NOT NULL,
    pan_key_id        bigint NOT NULL,
    pan_hash          text NOT NULL UNIQUE,
    masked_pan        text NOT NULL,
    expiry            text NOT NULL,
    status            text NOT NULL CHECK (status IN ('enrolled', 'blocked', 'not_enrolled')),
    mobiles           text NOT NULL,
    emails            text NOT NULL,
    preferred_channel text NOT NULL,
    locale            text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX acs_cardholders_issuer_idx ON acs_cardholders (issuer_id);
CREATE INDEX acs_cardholders_key_idx ON acs_cardholders (pan_key_id);

CREATE TABLE acs_device_data (
    three_ds_server_trans_id text PRIMARY KEY,
    device_key               text NOT NULL,
    ip                       text NOT NULL,
    data                     text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE acs_transactions (
    acs_trans_id             text PRIMARY KEY,
    three_ds_server_trans_id text NOT NULL,
    ds_trans_id              text NOT NULL,
    sdk_trans_id             text NOT NULL,
    issuer_id                text NOT NULL,
    cardholder_id            text NOT NULL,
    pan_hash                 text NOT NULL,
    masked_pan               text NOT NULL,
    pan_sealed               text NOT NULL,
    pan_key_id               bigint NOT NULL,
    message_version          text NOT NULL,
    message_category         text NOT NULL,
    device_channel           text NOT NULL,
    ds_url                   text NOT NULL,
    amount                   bigint NOT NULL,
    currency                 text NOT NULL,
    merchant                 text NOT NULL,
    device_key               text NOT NULL,
    risk_score               bigint NOT NULL,
    reasons                  text NOT NULL,
    live_decision            text NOT NULL,
    shadow_decision          text NOT NULL,
    trans_status             text NOT NULL,
    trans_status_reason      text NOT NULL,
    eci                      text NOT NULL,
    authentication_value     text NOT NULL,
    challenge_failed         bigint NOT NULL CHECK (challenge_failed IN (0, 1)),
    av_used_at               timestamptz,
    created_at timestamptz NOT NULL,
    ended_at                 timestamptz
);
CREATE INDEX acs_transactions_pan_idx ON acs_transactions (pan_hash, created_at);
CREATE INDEX acs_transactions_server_idx ON acs_transactions (three_ds_server_trans_id);

-- One RReq waiting to reach the DS. A sender leases a row (lease_owner, lease_until) before sending
-- it, so that several ACS instances never send the same row at once, and a lease that runs out (a
-- crashed instance) frees the row for another.
CREATE TABLE acs_rreq_outbox (
    acs_trans_id    text PRIMARY KEY,
    url             text NOT NULL,
    body            text NOT NULL,
    attempts        bigint NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     text NOT NULL,
    lease_until timestamptz NOT NULL,
    last_error      text NOT NULL,
    results_status  text NOT NULL,
    sent_at         timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX acs_rreq_outbox_due_idx ON acs_rreq_outbox (sent_at, next_attempt_at);
