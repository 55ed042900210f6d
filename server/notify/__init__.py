"""Notifications: policies route alert and incident events to contact groups; a persistent job queue delivers
them through channels (apprise, signed webhook, log, plugins), repeats until acknowledged and escalates."""
