-- The checkout script's redirect fallback (issue 6): where the challenge notification page sends a
-- top-level browser when the challenge ran outside an iframe. NULL when the merchant gave none.
ALTER TABLE tdss_transactions ADD COLUMN return_url TEXT;
