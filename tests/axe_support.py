"""axe-core in the browser tests: WCAG 2.1 A and AA checked on a page as Chromium shows it.

axe-core is vendored under ``devstatic/axe-core/`` (its README gives the version and source) and
served from our own static files, which the tests and DEBUG serve and production never collects:
it is loaded into the page as ``<script src="/static/axe-core/axe.min.js">``, which the
Content-Security-Policy (``script-src 'self'``) allows, so the page is checked with its CSP on.

- :func:`axe_violations`: what axe finds on the page, one :class:`AxeViolation` per rule, with
  the page's URL and the selectors of the elements at fault;
- :func:`assert_accessible`: the same, failing the test with a readable list;
- :func:`axe_report`: violations gathered over many pages, grouped by rule and element.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from playwright.sync_api import Page

AXE_SCRIPT = "axe-core/axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA (axe's tags for them).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# preload: false. axe would read the page's style sheets into <style> elements of its own, which
# the CSP (style-src 'self') refuses, with an error in the console; only its css-orientation-lock
# rule reads them, and our CSS locks no orientation.
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"], preload: false,
  });
  return result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact || "",
    help: v.help,
    targets: v.nodes.map((n) => n.target.map((t) => Array.isArray(t) ? t.join(" >> ") : t).join(" ")),
    summary: v.nodes.length ? (v.nodes[0].failureSummary || "") : "",
  }));
}"""


@dataclass(frozen=True)
class AxeViolation:
    url: str
    rule: str  # axe's rule id: "color-contrast", "label", "aria-valid-attr-value", …
    impact: str  # minor, moderate, serious, critical
    help: str
    targets: tuple[str, ...]  # CSS selectors of the elements at fault
    summary: str  # what axe says to fix on the first of them

    def __str__(self) -> str:
        return (
            f"{self.rule} ({self.impact}) on {self.url}: {self.help}\n"
            f"    at {', '.join(self.targets)}\n"
            f"    {' '.join(self.summary.split())}"
        )


def axe_violations(page: Page, tags: list[str] | None = None) -> list[AxeViolation]:
    """Run axe-core on the page as it is now; its WCAG 2.1 A/AA violations (``tags`` to narrow)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=urljoin(page.url, f"/{settings.STATIC_URL.strip('/')}/{AXE_SCRIPT}"))
    found = page.evaluate(RUN_AXE, tags or WCAG_TAGS)
    return [
        AxeViolation(page.url, v["rule"], v["impact"], v["help"], tuple(v["targets"]), v["summary"])
        for v in found
    ]


def axe_report(violations: Iterable[AxeViolation]) -> str:
    """Violations of many pages, one paragraph per rule and element, with the pages it was on."""
    grouped: dict[tuple[str, str, str, tuple[str, ...]], list[AxeViolation]] = {}
    for violation in violations:
        key = (violation.rule, violation.impact, violation.help, violation.targets)
        grouped.setdefault(key, []).append(violation)
    paragraphs = []
    for (rule, impact, help_text, targets), seen in grouped.items():
        urls = list(dict.fromkeys(v.url for v in seen))
        more = f" and {len(urls) - 3} more pages" if len(urls) > 3 else ""
        paragraphs.append(
            f"{rule} ({impact}): {help_text}\n    at {', '.join(targets)}\n"
            f"    {' '.join(seen[0].summary.split())}\n    on {', '.join(urls[:3])}{more}"
        )
    return "\n".join(paragraphs)


def assert_accessible(page: Page) -> None:
    """Fail unless axe-core finds no WCAG 2.1 A/AA violation on the page as it is now."""
    found = axe_violations(page)
    assert not found, f"axe-core {len(found)} WCAG 2.1 A/AA violation(s):\n" + axe_report(found)
