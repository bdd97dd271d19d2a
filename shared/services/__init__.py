"""Use cases: each module runs one job end to end (sources → domain → data access)."""
