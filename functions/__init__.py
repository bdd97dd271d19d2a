"""Lambda handlers: thin entry points that parse the event and call one service function."""
