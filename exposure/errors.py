"""The one exception base for bad input to the exposure package."""


class InvalidInput(ValueError):
    """A reading, batch or argument that cannot be accepted.

    `path` names the offending field (``readings[3].unit``), `reason` says what is wrong with it.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason
