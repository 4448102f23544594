// The JobQueue module: PostgreSQL-backed jobs, leases, batches (see docs/queue.md).
