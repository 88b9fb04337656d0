-- The 3DS Server (issue 6): merchants, the DS card-range cache and the transactions.
-- A merchant's API key is kept only as its SHA-256 digest (the key is random and long, so a slow
-- hash buys nothing); the key itself is shown once, at creation.
CREATE TABLE tdss_merchants (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    requestor_id         TEXT NOT NULL,
    requestor_name       TEXT NOT NULL,
    requestor_url        TEXT NOT NULL,
    acquirer_bin         TEXT NOT NULL,
    acquirer_merchant_id TEXT NOT NULL,
    mcc                  TEXT NOT NULL,
    country              TEXT NOT NULL,
    webhook_url          TEXT NOT NULL,
    api_key_hash         TEXT NOT NULL UNIQUE,
    created_at           timestamptz NOT NULL
);

-- The card ranges of the last PRes, shared by every instance. A range is found by the PAN's length
-- and the highest start at or below it, as ranges never overlap.
CREATE TABLE tdss_ranges (
    start_range  TEXT PRIMARY KEY,
    end_range    TEXT NOT NULL,
    pan_len      INTEGER NOT NULL,
    acs_start    TEXT NOT NULL,
    acs_end      TEXT NOT NULL,
    ds_start     TEXT NOT NULL,
    ds_end       TEXT NOT NULL,
    method_url   TEXT NOT NULL,
    acs_info_ind TEXT NOT NULL
);
CREATE INDEX tdss_ranges_len_idx ON tdss_ranges (pan_len, start_range);

-- One row: the serial the cache is current at, the DS's version span, when it was loaded and when
-- the next PReq is due. Every instance reads it, so one PReq per period serves them all.
CREATE TABLE tdss_cache (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    serial          TEXT NOT NULL,
    ds_start        TEXT NOT NULL,
    ds_end          TEXT NOT NULL,
    refresh_seconds INTEGER NOT NULL,
    loaded_at       timestamptz NOT NULL,
    next_at         timestamptz NOT NULL
);

-- One row per authentication. The PAN is sealed (vault) only between start and AReq, then erased.
CREATE TABLE tdss_transactions (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES tdss_merchants (id),
    masked_pan          TEXT NOT NULL,
    pan_sealed          TEXT NOT NULL,
    message_version     TEXT NOT NULL,
    method_url          TEXT NOT NULL,
    method_done         INTEGER NOT NULL,
    comp_ind            TEXT NOT NULL,
    state               TEXT NOT NULL,
    ds_trans_id         TEXT NOT NULL,
    acs_trans_id        TEXT NOT NULL,
    acs_url             TEXT NOT NULL,
    trans_status        TEXT NOT NULL,
    trans_status_reason TEXT NOT NULL,
    authentication_value TEXT NOT NULL,
    eci                 TEXT NOT NULL,
    challenge_cancel    TEXT NOT NULL,
    error_code          TEXT NOT NULL,
    error_detail        TEXT NOT NULL,
    created_at          timestamptz NOT NULL,
    ares_at             timestamptz,
    result_at           timestamptz
);
CREATE INDEX tdss_transactions_merchant_idx ON tdss_transactions (merchant_id, created_at);
