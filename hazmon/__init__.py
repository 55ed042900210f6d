"""hazmon: the front door. The `hazmon` command and the demo that wires agent and server together."""

__version__ = "0.1.0"
