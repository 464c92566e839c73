"""Reading our own source in tests: ``ast.parse`` that survives CPython 3.11's shared AST state.

CPython 3.11 counts the depth of the AST it builds in one counter for the whole process
(gh-106905). When another thread builds an AST at the same moment — Python 3.11's traceback
module parses the failing line to draw its ``^^^`` marks, so any thread that logs an exception
does — ``ast.parse`` may raise ``SystemError: AST constructor recursion depth mismatch`` although
the source is fine. The tests that read the source (the architecture, the write rule, the tests'
own rules) parse through :func:`parse`, which tries again when that is the error.
"""

from __future__ import annotations

import ast

ATTEMPTS = 5


def parse(source: str, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return ast.parse(source, filename=filename, mode=mode)
        except SystemError as exc:
            if "recursion depth mismatch" not in str(exc) or attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
