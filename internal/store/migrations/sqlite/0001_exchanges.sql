-- Every message exchange a role takes part in: who spoke to whom, about which transaction, what came
-- of it and how long it took. The PAN appears only masked (first six and last four digits at most).
-- Times are text in one fixed-width UTC form (2006-01-02T15:04:05.000000Z), so that they sort as text.
CREATE TABLE exchanges (
    id                       TEXT PRIMARY KEY,
    role                     TEXT NOT NULL CHECK (role IN ('ds', 'acs', '3dss')),
    message_type             TEXT NOT NULL,
    response_type            TEXT,
    direction                TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    peer                     TEXT NOT NULL,
    three_ds_server_trans_id TEXT,
    ds_trans_id              TEXT,
    acs_trans_id             TEXT,
    sdk_trans_id             TEXT,
    masked_pan               TEXT,
    message_version          TEXT,
    outcome                  TEXT NOT NULL,
    error_code               TEXT,
    started_at               TEXT NOT NULL,
    duration_us              INTEGER NOT NULL CHECK (duration_us >= 0)
) STRICT;

CREATE INDEX exchanges_three_ds_server_trans_id_idx ON exchanges (three_ds_server_trans_id);
CREATE INDEX exchanges_started_at_idx ON exchanges (started_at);
