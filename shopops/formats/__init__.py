"""How dates and times are shown, the same in every UI language (``FORMAT_MODULE_PATH``).

Django's own locale formats are ambiguous or differ by language: English lists showed
"12/09/2026 4:54 p.m." (month first) beside "Dec. 6, 2026" on the order page, Chinese
"2026年12月9日". Every page, list and pack now writes ``2026-12-09 16:54`` (a date alone
``2026-12-09``), which nobody reads the wrong way round. Each UI language's ``formats.py``
takes these; what is not set here (input formats, numbers) stays Django's for the language.
A language added to ``LANGUAGES`` needs its folder here (``tests/test_dates.py`` checks).
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
