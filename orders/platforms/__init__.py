"""The platforms: AliExpress (where we sell) and 1688 (where we buy) — docs/platforms.md.

- ``common``: errors, the HTTP transport (timeouts, retries with back-off, answer size), JSON and
  the platforms' time zones;
- ``aliexpress`` and ``alibaba1688``: one client per platform (signing, system parameters,
  envelopes, paging), from ``shared/platforms/aliexpress.md`` and ``1688.md``;
- ``rows``: an AliExpress order as the values of an import row (the CSV import's rules apply);
- ``sync``: one pass per store (orders and disputes, then the 1688 part), ``run_pass`` /
  ``run_all``;
- ``connection`` (a store's 1688 client), ``filing`` (one attempt at filing a 1688 refund request),
  ``vouchers`` (its images, as the 1688 evidence pack chooses them), ``answers`` (the 1688 refunds
  read back);
- ``fake``, ``fake_apis``, ``fake_1688``: a loopback fake of both gateways for development and
  tests.

This package imports none of its modules itself.
"""
