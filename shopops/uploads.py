"""Uploads stop at their size limit while they arrive, instead of being received whole first.

Every upload of the site — the order and feedback imports, evidence files — is received by
Django's multipart parser, which hands each file's bytes to the upload handlers
(``FILE_UPLOAD_HANDLERS``) as they arrive. :class:`SizeLimitUploadHandler`, first of them,
counts each file's bytes and stops the upload (``StopUpload(connection_reset=True)``: the rest
of the body is never read) as soon as one goes over the limit of the page it is sent to:

- the imports' pages (``IMPORT_URL_NAMES``): ``SHOPOPS_IMPORT_MAX_MB``;
- any other page (evidence files): ``SHOPOPS_ATTACHMENT_MAX_BYTES``.

:class:`UploadLimitMiddleware` (before ``CsrfViewMiddleware``, which would otherwise parse the
body first) reads the form data before any view runs — refusing at once an import whose
announced ``Content-Length`` is already over its limit — and answers a stopped upload with a 413
page naming the file and the limit, so no view ever sees a form whose file went missing.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

# The pages whose uploads are imports (their limit is SHOPOPS_IMPORT_MAX_MB), by URL name.
IMPORT_URL_NAMES = frozenset({"orders_order_import", "orders_feedback_import"})
# What a multipart body carries besides the file itself (boundaries, headers, the CSRF token).
FORM_OVERHEAD_BYTES = 64 * 1024
TOO_LARGE = "_shopops_upload_too_large"  # request attribute: (file name, limit) of a stopped upload


def upload_limit(request: HttpRequest) -> int:
    """The largest file, in bytes, the page ``request`` is sent to accepts."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in IMPORT_URL_NAMES:
        return int(settings.SHOPOPS_IMPORT_MAX_MB * 1024 * 1024)
    return int(settings.SHOPOPS_ATTACHMENT_MAX_BYTES)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


class SizeLimitUploadHandler(FileUploadHandler):
    """Passes each file's bytes on to the next handler until the file goes over the limit;
    then stops reading the request (its name and the limit are left on the request)."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.limit = upload_limit(self.request)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            setattr(self.request, TOO_LARGE, (self.file_name or "", self.limit))
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def too_large_message(name: str, limit: int, *, is_import: bool) -> str:
    """Why the upload was refused: the file's name, the page's limit, what to do."""
    if is_import:
        return _(
            "“%(name)s” is larger than the limit: imports are limited to %(limit)s MB. It was not "
            "received and nothing was imported. Split it into smaller files and import them one "
            "after the other."
        ) % {"name": name or _("The file"), "limit": f"{settings.SHOPOPS_IMPORT_MAX_MB:g}"}
    return _(
        "“%(name)s” is larger than %(limit)s MB, the limit for this upload: it was not received, "
        "and nothing was done. Choose a smaller file and send it again."
    ) % {"name": name or _("The file"), "limit": _megabytes(limit)}


class UploadLimitMiddleware:
    """Reads a multipart form before any view (the handler stopping an over-limit file), and
    answers a stopped upload with 413 and why. Placed before ``CsrfViewMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.method != "POST" or request.content_type != "multipart/form-data":
            return None
        limit = upload_limit(request)
        match = request.resolver_match
        is_import = match is not None and match.url_name in IMPORT_URL_NAMES
        if is_import:
            # One file a form: a body announced larger than the limit is refused unread.
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit + FORM_OVERHEAD_BYTES:
                return self._refuse(request, "", limit, is_import)
        try:
            request.POST  # noqa: B018 -- parse now, through SizeLimitUploadHandler
        except (OSError, MultiPartParserError):
            return None  # a broken body: CSRF and the view answer it as they always have
        stopped = getattr(request, TOO_LARGE, None)
        if stopped is not None:
            return self._refuse(request, *stopped, is_import)
        return None

    @staticmethod
    def _refuse(request: HttpRequest, name: str, limit: int, is_import: bool) -> HttpResponse:
        context = {
            **admin.site.each_context(request),
            "title": _("The file is too large"),
            "reason": too_large_message(name, limit, is_import=is_import),
            "back": request.path,
        }
        return TemplateResponse(request, "admin/upload_too_large.html", context, status=413)
