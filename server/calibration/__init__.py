"""The calibration register: each sensor's last calibration and bump test, when they fall due, and its
certificate; from the agents' configs (their status reports) and edited in the API (docs/api.md)."""
