"""The engine's rules over the database: campaigns, stage runs, gates, signatures, submissions.

These functions take a session and `now`, and never commit: the flow task or CLI command that calls
them owns the transaction. Prefect is not imported here.
"""
