-- When a transaction entered "sending" (issue 14): the sweeper ends a transaction whose AReq
-- outcome was never recorded (its instance died mid-exchange) once this is older than the longest
-- an exchange may take. NULL for a transaction that never was in "sending".
ALTER TABLE tdss_transactions ADD COLUMN sending_at timestamptz;
-- Rows left in "sending" before this migration (a hung-up merchant request could leave them there
-- for ever) take their creation time, so that the first sweep ends them.
UPDATE tdss_transactions SET sending_at = created_at WHERE state = 'sending';
-- Only rows in "sending" are ever looked for by it, and there are few of them.
CREATE INDEX tdss_transactions_sending_idx ON tdss_transactions (sending_at) WHERE state = 'sending';
