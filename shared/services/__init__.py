"""Use cases: one module per use case, called by handlers, the CLI and the local stack."""
