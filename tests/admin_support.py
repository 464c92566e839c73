"""The admin's pages, discovered from its URL patterns: what the crawls of every page walk."""

from __future__ import annotations

import contextlib
import re

from django.contrib import admin
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse


def _patterns(patterns, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif entry.name:
            found.append((prefix + str(entry.pattern), entry))
    return found


def admin_pages(pk_of: dict[str, int]) -> list[str]:
    """Every named admin URL with its arguments filled: an existing object's pk, and a missing one."""
    admin_resolver = next(
        r
        for r in get_resolver().url_patterns
        if isinstance(r, URLResolver) and r.namespace == admin.site.name
    )
    urls = set()
    for _route, pattern in _patterns(admin_resolver.url_patterns):
        converters = getattr(pattern.pattern, "converters", {})
        name = f"{admin.site.name}:{pattern.name}"
        if pattern.name in ("logout", "password_change", "password_change_done", "login"):
            continue  # not pages of the back office's data (logout would end the session)
        if not converters and "(?P<" not in str(pattern.pattern):
            urls.add(reverse(name))
            continue
        args = re.findall(r"\(\?P<(\w+)>", pattern.pattern.regex.pattern)
        model = pattern.name.rsplit("_", 1)[0]  # "orders_order_change" -> "orders_order"
        for pk in (pk_of.get(model, 1), 2**62):
            kwargs = {}
            for arg in args:
                if arg in ("app_label",):
                    kwargs[arg] = "orders"
                elif arg in ("content_type_id",):
                    kwargs[arg] = 1
                else:
                    kwargs[arg] = pk
            with contextlib.suppress(NoReverseMatch):  # a route whose arguments are not ids
                urls.add(reverse(name, kwargs=kwargs))
    return sorted(urls)
