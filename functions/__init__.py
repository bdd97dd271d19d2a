"""Lambda handlers, one folder per function (handler string ``functions.<name>.handler.handler``)."""
