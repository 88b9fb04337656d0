-- Jobs that any instance may run but that must run once per period across every instance sharing
-- the store (issue 17: the retention purge). One row per job: an instance runs the job only after
-- claiming the row by a conditional update (free lease, run due), and a holder that crashes loses
-- the lease when lease_until passes, so another instance takes the run over. holder is '' when no
-- instance holds the lease.
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    next_due    TEXT NOT NULL,
    last_run_at TEXT
) STRICT;
