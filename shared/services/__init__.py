"""Use cases: each gathers inputs, calls the pure domain core, then persists through the data-access layer."""
