-- App authentications (issue 15): the 3DS Server keeps each transaction's device channel, so that
-- the RReq is checked by the rules of its own channel, and the SDK's transaction id, which an app
-- RReq must echo. Rows from before this migration were all browser authentications.
ALTER TABLE tdss_transactions ADD COLUMN device_channel TEXT NOT NULL DEFAULT '02';
ALTER TABLE tdss_transactions ADD COLUMN sdk_trans_id TEXT NOT NULL DEFAULT '';
