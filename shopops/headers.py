"""Response headers every page gets: none that announces the server software."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


class NoServerHeader:
    """Middleware: announce no server software. Django's development server (``runserver``, the
    test live server) adds ``Server: WSGIServer/0.2 CPython/...`` unless the response has a
    ``Server`` header already: give it an empty one. gunicorn's own is dropped by
    ``gunicorn.conf.py``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers["Server"] = ""
        return response
