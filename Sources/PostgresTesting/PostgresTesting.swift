// Test support: a fresh, migrated database per test on the test cluster.
