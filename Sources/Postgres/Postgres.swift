// The Postgres module: a thin layer over libpq (see docs/architecture.md).
