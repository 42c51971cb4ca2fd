"""Pure, typed stage logic: no Prefect, no database session."""
