"""Lambda handlers: thin, one per worker or API."""
