-- The Directory Server's registry (issue 3): the scheme, its ACSs and 3DS Servers, card ranges with a
-- change log per serial number (for PReq deltas), the transactions the DS routed, and PReq pacing.
-- Card-range bounds are digit strings of one length each; equal-length digit strings sort as numbers.

-- The scheme is one row: its DS identity, the ECI values it stamps, its stand-in policies and the
-- serial number every registry change bumps.
CREATE TABLE ds_scheme (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    ds_id                TEXT NOT NULL,
    reference_number     TEXT NOT NULL,
    eci_y                TEXT NOT NULL,
    eci_a                TEXT NOT NULL,
    eci_n                TEXT NOT NULL,
    standin_not_enrolled TEXT NOT NULL,
    standin_unavailable  TEXT NOT NULL,
    serial               INTEGER NOT NULL CHECK (serial >= 0)
) STRICT;

INSERT INTO ds_scheme VALUES (1, 'F000000001', 'OPEN3DS-DS-01', '05', '06', '07', 'attempts', 'unavailable', 0);

-- name is the identity in the ACS's client certificate (urn:open3ds:acs:<name>).
CREATE TABLE ds_acs (
    name             TEXT PRIMARY KEY,
    reference_number TEXT NOT NULL,
    operator_id      TEXT NOT NULL,
    url              TEXT NOT NULL
) STRICT;

-- name is the identity in the 3DS Server's client certificate (urn:open3ds:3dss:<name>).
CREATE TABLE ds_3ds_servers (
    name             TEXT PRIMARY KEY,
    reference_number TEXT NOT NULL,
    operator_id      TEXT NOT NULL
) STRICT;

-- A 3DS Requestor id belongs to exactly one 3DS Server, which alone may send AReqs for it.
CREATE TABLE ds_requestors (
    requestor_id TEXT PRIMARY KEY,
    server_name  TEXT NOT NULL REFERENCES ds_3ds_servers (name) ON DELETE CASCADE
) STRICT;

CREATE TABLE ds_ranges (
    start_pan    TEXT PRIMARY KEY,
    end_pan      TEXT NOT NULL,
    pan_len      INTEGER NOT NULL,
    acs_name     TEXT NOT NULL REFERENCES ds_acs (name),
    acs_start    TEXT NOT NULL,
    acs_end      TEXT NOT NULL,
    ds_start     TEXT NOT NULL,
    ds_end       TEXT NOT NULL,
    method_url   TEXT NOT NULL,
    acs_info_ind TEXT NOT NULL
) STRICT;

CREATE INDEX ds_ranges_lookup_idx ON ds_ranges (pan_len, start_pan, end_pan);

-- One row per range change, keyed by the serial number the change produced. It holds the range as it
-- was after the change (for D: as it was before), so a delta never needs the live table.
CREATE TABLE ds_range_changes (
    serial       INTEGER PRIMARY KEY,
    action       TEXT NOT NULL CHECK (action IN ('A', 'M', 'D')),
    start_pan    TEXT NOT NULL,
    end_pan      TEXT NOT NULL,
    acs_name     TEXT NOT NULL,
    acs_start    TEXT NOT NULL,
    acs_end      TEXT NOT NULL,
    ds_start     TEXT NOT NULL,
    ds_end       TEXT NOT NULL,
    method_url   TEXT NOT NULL,
    acs_info_ind TEXT NOT NULL
) STRICT;

-- Every AReq the DS answered: where its RReq must go and which ACS may send it. PAN masked only.
CREATE TABLE ds_transactions (
    ds_trans_id              TEXT PRIMARY KEY,
    three_ds_server_trans_id TEXT NOT NULL,
    acs_trans_id             TEXT NOT NULL,
    acs_name                 TEXT NOT NULL,
    server_name              TEXT NOT NULL,
    three_ds_server_url      TEXT NOT NULL,
    message_version          TEXT NOT NULL,
    message_category         TEXT NOT NULL,
    device_channel           TEXT NOT NULL,
    masked_pan               TEXT NOT NULL,
    outcome                  TEXT NOT NULL,
    created_at               TEXT NOT NULL
) STRICT;

-- When each 3DS Server last got a PRes, and whether it is owed a full reload after an Erro 307.
CREATE TABLE ds_preq_pacing (
    server_name  TEXT PRIMARY KEY,
    last_at      TEXT NOT NULL,
    owed_reload  INTEGER NOT NULL
) STRICT;
