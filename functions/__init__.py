"""Lambda handlers, one folder per function; each handler is a few lines over one service call."""
