-- The Directory Server's registry (issue 3): the scheme, its ACSs and 3DS Servers, card ranges with a
-- change log per serial number (for PReq deltas), the transactions the DS routed, and PReq pacing.
-- Card-range bounds are digit strings of one length each; equal-length digit strings sort as numbers
-- under the C collation, which the bound columns use whatever the database's default.

-- The scheme is one row: its DS identity, the ECI values it stamps, its stand-in policies and the
-- serial number every registry change bumps.
CREATE TABLE ds_scheme (
    id                   integer PRIMARY KEY CHECK (id = 1),
    ds_id                text NOT NULL,
    reference_number     text NOT NULL,
    eci_y                text NOT NULL,
    eci_a                text NOT NULL,
    eci_n                text NOT NULL,
    standin_not_enrolled text NOT NULL,
    standin_unavailable  text NOT NULL,
    serial               bigint NOT NULL CHECK (serial >= 0)
);

INSERT INTO ds_scheme VALUES (1, 'F000000001', 'OPEN3DS-DS-01', '05', '06', '07', 'attempts', 'unavailable', 0);

-- name is the identity in the ACS's client certificate (urn:open3ds:acs:<name>).
CREATE TABLE ds_acs (
    name             text PRIMARY KEY,
    reference_number text NOT NULL,
    operator_id      text NOT NULL,
    url              text NOT NULL
);

-- name is the identity in the 3DS Server's client certificate (urn:open3ds:3dss:<name>).
CREATE TABLE ds_3ds_servers (
    name             text PRIMARY KEY,
    reference_number text NOT NULL,
    operator_id      text NOT NULL
);

-- A 3DS Requestor id belongs to exactly one 3DS Server, which alone may send AReqs for it.
CREATE TABLE ds_requestors (
    requestor_id text PRIMARY KEY,
    server_name  text NOT NULL REFERENCES ds_3ds_servers (name) ON DELETE CASCADE
);

CREATE TABLE ds_ranges (
    start_pan    text COLLATE "C" PRIMARY KEY,
    end_pan      text COLLATE "C" NOT NULL,
    pan_len      integer NOT NULL,
    acs_name     text NOT NULL REFERENCES ds_acs (name),
    acs_start    text NOT NULL,
    acs_end      text NOT NULL,
    ds_start     text NOT NULL,
    ds_end       text NOT NULL,
    method_url   text NOT NULL,
    acs_info_ind text NOT NULL
);

CREATE INDEX ds_ranges_lookup_idx ON ds_ranges (pan_len, start_pan, end_pan);

-- One row per range change, keyed by the serial number the change produced. It holds the range as it
-- was after the change (for D: as it was before), so a delta never needs the live table.
CREATE TABLE ds_range_changes (
    serial       bigint PRIMARY KEY,
    action       text NOT NULL CHECK (action IN ('A', 'M', 'D')),
    start_pan    text NOT NULL,
    end_pan      text NOT NULL,
    acs_name     text NOT NULL,
    acs_start    text NOT NULL,
    acs_end      text NOT NULL,
    ds_start     text NOT NULL,
    ds_end       text NOT NULL,
    method_url   text NOT NULL,
    acs_info_ind text NOT NULL
);

-- Every AReq the DS answered: where its RReq must go and which ACS may send it. PAN masked only.
CREATE TABLE ds_transactions (
    ds_trans_id              text PRIMARY KEY,
    three_ds_server_trans_id text NOT NULL,
    acs_trans_id             text NOT NULL,
    acs_name                 text NOT NULL,
    server_name              text NOT NULL,
    three_ds_server_url      text NOT NULL,
    message_version          text NOT NULL,
    message_category         text NOT NULL,
    device_channel           text NOT NULL,
    masked_pan               text NOT NULL,
    outcome                  text NOT NULL,
    created_at               timestamptz NOT NULL
);

-- When each 3DS Server last got a PRes, and whether it is owed a full reload after an Erro 307.
CREATE TABLE ds_preq_pacing (
    server_name  text PRIMARY KEY,
    last_at      timestamptz NOT NULL,
    owed_reload  integer NOT NULL
);
