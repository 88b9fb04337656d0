-- The ACS app challenge (issue 15). An app challenge is also a row of acs_challenges (its step,
-- code state, idle and first-CReq timeouts and the card lock are the browser's); this table holds
-- what only the app channel has. The session key derived from the two ephemeral keys is sealed
-- with the PAN vault, bound to this table, column and row, so that any instance can open it and no
-- database reader can: the ACS's ephemeral private key itself is never stored.
CREATE TABLE acs_app_challenges (
    acs_trans_id   text PRIMARY KEY,
    sdk_trans_id   text NOT NULL,
    session_sealed text NOT NULL,
    session_key_id integer NOT NULL,
    -- ui_type is the acsUiTemplate announced in the ARes (01-05); interface 01 native, 02 HTML.
    ui_type        text NOT NULL,
    acs_interface  text NOT NULL,
    -- next_counter is the sdkCounterStoA the next CReq must carry; a CReq claims it atomically.
    next_counter   integer NOT NULL,
    -- oob_token is the SHA-256 (hex) of the token that names the challenge on the issuer's demo app
    -- page, never the token itself; oob_state is '' (not out of
    -- band), 'pending', 'approved' or 'declined'.
    oob_token      text NOT NULL,
    oob_state      text NOT NULL
);
CREATE INDEX acs_app_challenges_oob_idx ON acs_app_challenges (oob_token);

-- The app challenge screen a cardholder prefers: '' lets the ACS choose, else an acsUiType.
ALTER TABLE acs_cardholders ADD COLUMN app_ui text NOT NULL DEFAULT '';
