"""Prefect flows and tasks that wire stages to state; the CLI."""
