-- Directory Server tables (issue 3): filled in by the DS work.
SELECT 1;
