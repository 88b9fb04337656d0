-- The DS console's analytics (issue 17) count ds_transactions by day over a span of days: an index on
-- the time bounds each count to its span instead of reading every transaction the DS ever answered.
CREATE INDEX ds_transactions_created_at_idx ON ds_transactions (created_at);
