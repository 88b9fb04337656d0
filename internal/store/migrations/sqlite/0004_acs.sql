-- ACS tables (issue 4): filled in by the ACS work.
SELECT 1;
