"""Accessibility checks of a page in Chromium with axe-core (vendored under tests/kit/vendor/axe-core, tests only:
never served to users, never downloaded at test time).

The pages' Content-Security-Policy allows no inline script, so axe is not added as a <script> tag: its source is
evaluated through Playwright's own channel (`page.evaluate`), which the page's CSP does not govern.

HAZMON_AXE_TAGS=wcag2a,wcag2aa,wcag21a,wcag21aa,wcag22aa,best-practice (for example) widens the rules checked, to
look for more than the tests require (the moderate findings are printed with `pytest -s`).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
#: axe-core 4.14.1's axe.min.js (see vendor/axe-core/README.md)
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
#: WCAG 2.0 and 2.1, levels A and AA: labels, names, contrast, landmarks, headings ...
TAGS = tuple(os.environ.get("HAZMON_AXE_TAGS", "wcag2a,wcag2aa,wcag21a,wcag21aa").split(","))
SERIOUS = frozenset({"serious", "critical"})


@cache
def axe_source() -> str:
    data = AXE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, f"{AXE} is not the pinned axe-core (sha256 {digest})"
    return data.decode("utf-8")


def violations(page: Any, *, tags: tuple[str, ...] = TAGS, kind: str = "violations") -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (a Playwright Page): id, impact, help, helpUrl, nodes;
    `kind="incomplete"`: what axe could not decide (e.g. text over an image), for a person to look at."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;void 0")
    return page.evaluate(  # type: ignore[no-any-return]
        "async ([tags, kind]) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: [kind]}))[kind].map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact,"
        " summary: n.failureSummary || n.any.map(c => c.message).join('; '), html: n.html.slice(0, 200)}))}))",
        [list(tags), kind])


def describe(found: list[dict[str, Any]]) -> str:
    """One block per violation: id, impact, help, and each node's selector and why it fails."""
    lines: list[str] = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"][:10]:
            why = " ".join(str(node.get("summary") or "").split())
            lines.append(f"    {node['target']}: {why[:300]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page: Any, *, what: str = "", tags: tuple[str, ...] = TAGS) -> list[dict[str, Any]]:
    """Fail with every violation of serious or critical impact (axe-core, WCAG 2.1 A/AA); returns the lesser
    (moderate, minor) ones for the caller to report."""
    found = violations(page, tags=tags)
    bad = [v for v in found if v["impact"] in SERIOUS]
    assert not bad, f"{what or page.url}: {len(bad)} serious accessibility violation(s):\n{describe(bad)}"
    return [v for v in found if v["impact"] not in SERIOUS]
