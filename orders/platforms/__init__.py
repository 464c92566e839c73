"""The platforms: AliExpress (where we sell) and 1688 (where we buy) — docs/platforms.md.

- ``common``: errors, the HTTP transport (timeouts, retries with back-off, answer size), JSON and
  the platforms' time zones;
- ``aliexpress`` and ``alibaba1688``: one client per platform (signing, system parameters,
  envelopes, paging), from ``shared/platforms/aliexpress.md`` and ``1688.md``;
- ``rows``: an AliExpress order as the values of an import row (the CSV import's rules apply);
- ``sync``: one pass per store (orders and disputes), ``run_pass`` / ``run_all``;
- ``fake``, ``fake_aliexpress``, ``fake_1688``: a loopback fake of both gateways for development
  and tests.

This package imports none of its modules itself.
"""
