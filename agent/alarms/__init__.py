"""Local alarms at the edge: the same exposure code as the server, alarm outputs through plugins, events kept
until the server has them."""
