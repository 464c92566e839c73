"""CSV imports (SPEC section 6): reading and encodings, column parsers, row checks, writers, history.

The order import's entry point is :func:`orders.imports.service.import_orders`. This package
imports none of its modules itself, so that importing one of them loads no more than it needs.
"""
