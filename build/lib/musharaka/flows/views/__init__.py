"""Read models: what the CLI prints with --json and the pages show, read from the projections."""
