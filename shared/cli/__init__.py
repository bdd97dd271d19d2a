"""The ``muster-costs`` command line."""
