"""Persistence: settings, the database, the hash-chained event log and its projections."""
