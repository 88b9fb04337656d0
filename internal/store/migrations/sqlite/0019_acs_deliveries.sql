-- How each one-time code's delivery went (issue 17: the ACS console's delivery page and analytics).
-- One row per provider's try at a message, written by the delivery queue's worker once the message
-- is sent or has failed for good: one row, or two when an SMS fell back to e-mail (attempt 1 the
-- SMS, outcome fell_back; attempt 2 the e-mail).
--
-- provider is the sender's name (smtp, smpp, webhook, messages-api, outbox), '' when the message
-- failed before reaching any. outcome is sent, failed, timed_out or fell_back. error_class is a fixed
-- word (timeout, unreachable, rejected, …), never a provider's text, which may quote the destination:
-- no row holds a phone number, an address or a code. issuer_id is the transaction's at the time,
-- '' when the transaction could not be found. latency_ms is finished_at − queued_at, kept as a number
-- so that both back ends can sort by it for the percentiles.
CREATE TABLE acs_deliveries (
    message_id   TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    issuer_id    TEXT NOT NULL,
    acs_trans_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    error_class  TEXT NOT NULL DEFAULT '',
    queued_at    TEXT NOT NULL,
    finished_at  TEXT NOT NULL,
    latency_ms   INTEGER NOT NULL,
    PRIMARY KEY (message_id, attempt)
) STRICT;
CREATE INDEX acs_deliveries_finished_idx ON acs_deliveries (finished_at);
CREATE INDEX acs_deliveries_issuer_idx ON acs_deliveries (issuer_id, finished_at);
