"""gunicorn's configuration, read from the working directory: ``gunicorn shopops.wsgi``.

gunicorn writes ``Server: gunicorn`` before every response and has no setting to leave it out.
Shopops announces no server software (issue 12): the header line is dropped here, once, for
every worker (``tests/test_login_headers.py`` starts gunicorn and checks it).
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _without_server(self) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server
