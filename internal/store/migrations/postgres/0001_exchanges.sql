-- Every message exchange a role takes part in: who spoke to whom, about which transaction, what came
-- of it and how long it took. The PAN appears only masked (first six and last four digits at most).
CREATE TABLE exchanges (
    id                       text PRIMARY KEY,
    role                     text NOT NULL CHECK (role IN ('ds', 'acs', '3dss')),
    message_type             text NOT NULL,
    response_type            text,
    direction                text NOT NULL CHECK (direction IN ('in', 'out')),
    peer                     text NOT NULL,
    three_ds_server_trans_id text,
    ds_trans_id              text,
    acs_trans_id             text,
    sdk_trans_id             text,
    masked_pan               text,
    message_version          text,
    outcome                  text NOT NULL,
    error_code               text,
    started_at               timestamptz NOT NULL,
    duration_us              bigint NOT NULL CHECK (duration_us >= 0)
);

CREATE INDEX exchanges_three_ds_server_trans_id_idx ON exchanges (three_ds_server_trans_id);
CREATE INDEX exchanges_started_at_idx ON exchanges (started_at);
