-- The risk backtest (issue 16). acs_risk_inputs keeps, for every AReq the risk engine scored, what
-- it saw: the AReq and the facts that are not in it (the card's history at that moment, the device
-- facts), as JSON sealed with the PAN vault and bound to this table, column and row, since it holds
-- the card number and the cardholder's personal data. A replay through another rule set then sees
-- exactly the live input. It is written in the same commit as the transaction's row.
CREATE TABLE acs_risk_inputs (
    acs_trans_id text PRIMARY KEY,
    input_sealed text NOT NULL,
    input_key_id bigint NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE INDEX acs_risk_inputs_created_idx ON acs_risk_inputs (created_at);

-- Fraud reports as an issuer's fraud team receives them (open3ds risk fraud import). report_key
-- is the SHA-256 of the report's identity (the acsTransID, or the card's lookup hash with date,
-- amount and currency, plus the fraud type), so that a file imported twice counts each report once.
-- acs_trans_id is the transaction the report was matched to, '' while none matches; the clear card
-- number is never kept, only the vault's lookup hash.
CREATE TABLE acs_fraud_reports (
    report_key   text PRIMARY KEY,
    acs_trans_id text NOT NULL,
    pan_hash     text NOT NULL,
    purchase_day text NOT NULL,
    amount       bigint NOT NULL,
    currency     text NOT NULL,
    fraud_type   text NOT NULL,
    reported_on  text NOT NULL,
    imported_at  timestamptz NOT NULL
);
CREATE INDEX acs_fraud_reports_tx_idx ON acs_fraud_reports (acs_trans_id);
