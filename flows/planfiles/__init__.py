"""Plan files read from disk: YAML with positions, validated into typed plans, cached."""
