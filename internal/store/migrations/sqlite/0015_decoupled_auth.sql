-- Decoupled authentication at the ACS (issue 16). An ARes D leaves one row here, in the commit that
-- stores the transaction: the cardholder approves or declines on the issuer's approval page, reached
-- by a link sent by SMS or e-mail, or the sweeper ends the transaction at its deadline. Whether it
-- has ended is the transaction's own ended_at (set once, by a conditional update), so this row never
-- changes. token_hash is the SHA-256 (hex) of the link's token, never the token itself.
CREATE TABLE acs_decoupled (
    acs_trans_id  TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    deadline      TEXT NOT NULL,
    merchant_name TEXT NOT NULL,
    exponent      INTEGER NOT NULL,
    locale        TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX acs_decoupled_deadline_idx ON acs_decoupled (deadline);

-- The 3DS Server keeps the ACS's cardholderInfo text of an ARes D (or frictionless), which the
-- merchant's result shows while the decoupled authentication waits.
ALTER TABLE tdss_transactions ADD COLUMN cardholder_info TEXT;

-- 2.3.1 decoupled fallback (threeDSRequestorDecReqInd F or B): a challenge the cardholder moves to
-- the bank's app sends an interim RReq D and later the final RReq, through the same one row per
-- transaction. seq counts the RReqs the row has carried (1, then 2); a sender that finishes
-- sending seq 1 after seq 2 replaced it marks nothing sent, so the final RReq is never lost and
-- never sent before the interim one (docs/protocol.md §1.7). interim is 1 while the row holds the
-- interim RReq D.
ALTER TABLE acs_rreq_outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 1;
ALTER TABLE acs_rreq_outbox ADD COLUMN interim INTEGER NOT NULL DEFAULT 0;

-- How long a 2.3.1 challenge whose AReq allowed decoupled as a fallback (F or B) may wait in the
-- bank's app if the cardholder moves it there, in seconds; 0 when it may not.
ALTER TABLE acs_challenges ADD COLUMN decoupled_within INTEGER NOT NULL DEFAULT 0;
