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
