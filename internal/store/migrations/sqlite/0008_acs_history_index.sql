-- The ACS reads a card's recent transactions on every AReq (risk facts: counts in the last hour and
-- day, failed challenges, a known device, the usual amount). An index holding every column that read
-- uses answers it without visiting the table rows (issue 7: those visits were a tenth of the ACS's
-- CPU). It replaces the (pan_hash, created_at) index it extends.
CREATE INDEX acs_transactions_history_idx ON acs_transactions
    (pan_hash, created_at, trans_status, challenge_failed, amount, device_key);
DROP INDEX acs_transactions_pan_idx;
