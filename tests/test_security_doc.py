"""docs/security.md lists every limit: each setting of ``shopops/settings.py`` that bounds a size,
a count, a ratio, a date window or a rate appears in it with its default."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A setting that bounds something: its name says so.
LIMIT = re.compile(r"^([A-Z][A-Z0-9_]*(?:MAX|LIMIT|EARLIEST|SKEW|RATIO|COOLOFF)[A-Z0-9_]*)\s*=", re.M)
# Not a bound on what anyone sends: how many tasks a worker's database connection serves.
NOT_LIMITS = {"CELERY_DB_REUSE_MAX"}
# Bounds whose names do not say so.
ALSO = {"EMAIL_TIMEOUT", "SMS_TIMEOUT", "SESSION_COOKIE_AGE", "SHOPOPS_NOTIFICATION_CLAIM_SECONDS"}


def test_every_limit_setting_is_in_the_security_page():
    settings = (ROOT / "shopops" / "settings.py").read_text(encoding="utf-8")
    page = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    limits = (set(LIMIT.findall(settings)) - NOT_LIMITS) | ALSO
    assert {"SHOPOPS_UPLOAD_REQUEST_MAX_MB", "SHOPOPS_FX_MAX_RATIO", "SHOPOPS_EARLIEST_DATE"} <= limits
    assert sorted(name for name in limits if name not in page) == []
    # the image budgets, added with the image checks, have their line
    assert "SHOPOPS_IMAGE_MAX_PIXELS" in page and "SHOPOPS_IMAGE_MAX_MEMORY_MB" in page
