-- 3RI and non-payment authentications (issue 16).
--
-- The 3DS Server keeps each authentication's message category (01 payment, 02 non-payment) and, for a
-- 3RI one, its threeRIInd. Rows from before this migration were all payments.
ALTER TABLE tdss_transactions ADD COLUMN message_category TEXT NOT NULL DEFAULT '01';
ALTER TABLE tdss_transactions ADD COLUMN three_ri_ind TEXT NOT NULL DEFAULT '';

-- The ACS checks a 3RI AReq against the prior authentication it issued (threeDSReqPriorRef is that
-- one's acsTransID): it keeps who asked (requestor_id), the recurring limits the AReq set, and on
-- the prior's row how many 3RI authentications it has backed and when the latest was. A 3RI row
-- names its prior in prior_ref. Rows from before this migration have no requestor, so no 3RI can be
-- linked to them.
ALTER TABLE acs_transactions ADD COLUMN requestor_id TEXT NOT NULL DEFAULT '';
ALTER TABLE acs_transactions ADD COLUMN three_ri_ind TEXT NOT NULL DEFAULT '';
ALTER TABLE acs_transactions ADD COLUMN prior_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE acs_transactions ADD COLUMN recurring_expiry TEXT NOT NULL DEFAULT '';
ALTER TABLE acs_transactions ADD COLUMN recurring_frequency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acs_transactions ADD COLUMN recurring_amount INTEGER NOT NULL DEFAULT -1;
ALTER TABLE acs_transactions ADD COLUMN recurring_fixed INTEGER NOT NULL DEFAULT 0 CHECK (recurring_fixed IN (0, 1));
ALTER TABLE acs_transactions ADD COLUMN instal_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acs_transactions ADD COLUMN linked_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acs_transactions ADD COLUMN linked_last_at TEXT;

-- An issuer may refuse 3RI (reason 21) or non-payment authentications (reason 20) altogether.
ALTER TABLE acs_issuers ADD COLUMN refuse_3ri INTEGER NOT NULL DEFAULT 0 CHECK (refuse_3ri IN (0, 1));
ALTER TABLE acs_issuers ADD COLUMN refuse_npa INTEGER NOT NULL DEFAULT 0 CHECK (refuse_npa IN (0, 1));
