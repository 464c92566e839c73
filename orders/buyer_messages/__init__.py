"""Every message Shopops writes to a buyer, in the buyer's language.

- ``spec``: the languages we write in, the messages and the placeholders each may use, and the
  checks a text must pass (known placeholders, SMS within two segments).
- ``formatting``: the order's facts (amounts, dates) formatted for a language with Babel.
- ``catalogue``: the shipped texts (``texts/<language>.toml``, one file per language), a
  Supervisor's edits (``BuyerMessageTemplate`` rows) over them, rendering, and the report of
  what is missing (``manage.py check_buyer_messages``).

The operator interface's gettext catalogues (``locale/``) are not used for buyers: see
``docs/buyer-messages.md``.
"""
