"""The test folders mirror the package names and are not packages, so with pytest's default import mode
`tests/<name>` (on sys.path through tests/conftest.py) would shadow the real package as an empty namespace
package. Put the repository root first so `import agent`, `exposure`, `server` find the real ones.
(The lasting fix is `pythonpath = ["."]` in pyproject's pytest options.)"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[2])
if sys.path[:1] != [_REPO]:
    sys.path.insert(0, _REPO)
