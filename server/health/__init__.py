"""Workers' occupational health files: workers, zones, rosters, per-shift exposure records computed by the
exposure engine, alert linkage, health surveillance, exports, role rules and the audit trail.
See docs/health-files.md."""
