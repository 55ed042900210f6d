"""The hazmon site agent: reads sensors, keeps every reading on disk until the server has it."""

from agent.hookspecs import hookimpl

__all__ = ["hookimpl"]
