"""Uploads stop at their size limit while they arrive, instead of being received whole first.

Every upload of the site — the order and feedback imports, evidence files — is received by
Django's multipart parser, which hands each file's bytes to the upload handlers
(``FILE_UPLOAD_HANDLERS``) as they arrive. :class:`SizeLimitUploadHandler`, first of them,
counts each file's bytes and stops the upload (``StopUpload(connection_reset=True)``: the rest
of the body is never read) as soon as one goes over the limit of the page it is sent to:

- the imports' pages (``IMPORT_URL_NAMES``): ``SHOPOPS_IMPORT_MAX_MB``;
- any other page (evidence files): ``SHOPOPS_ATTACHMENT_MAX_BYTES``;

and counts the files of one request together, stopping as soon as they go over the request's
total (``request_limit``): ``SHOPOPS_UPLOAD_REQUEST_MAX_MB`` (12 evidence files of 9.5 MB, 114 MB,
were accepted in one POST), or on an import's page its one file's limit.

:class:`UploadLimitMiddleware` (before ``CsrfViewMiddleware``, which would otherwise parse the
body first) reads the form data before any view runs — refusing at once a body whose announced
``Content-Length`` is already over the request's total — and answers a stopped upload with a 413
page naming the file (or the total) and the limit, so no view ever sees a form whose file went
missing.
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
# Request attribute: (file name, limit, whether the request's total was exceeded) of a stopped upload.
TOO_LARGE = "_shopops_upload_too_large"


def upload_limit(request: HttpRequest) -> int:
    """The largest file, in bytes, the page ``request`` is sent to accepts."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in IMPORT_URL_NAMES:
        return int(settings.SHOPOPS_IMPORT_MAX_MB * 1024 * 1024)
    return int(settings.SHOPOPS_ATTACHMENT_MAX_BYTES)


def request_limit(request: HttpRequest) -> int:
    """The most, in bytes, all the files of one request to this page may add up to: an import's
    page takes one file (its limit); any other page ``SHOPOPS_UPLOAD_REQUEST_MAX_MB``."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in IMPORT_URL_NAMES:
        return upload_limit(request)
    return int(float(settings.SHOPOPS_UPLOAD_REQUEST_MAX_MB) * 1024 * 1024)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


class SizeLimitUploadHandler(FileUploadHandler):
    """Passes each file's bytes on to the next handler until the file goes over the limit, or the
    request's files together over the request's total; then stops reading the request (the file's
    name and the limit are left on the request). One handler serves one request."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.received = 0  # bytes of every file of the request so far

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.limit = upload_limit(self.request)
        self.total = request_limit(self.request)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            setattr(self.request, TOO_LARGE, (self.file_name or "", self.limit, False))
            raise StopUpload(connection_reset=True)
        self.received += len(raw_data)
        if self.received > self.total:
            setattr(self.request, TOO_LARGE, (self.file_name or "", self.total, True))
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def too_large_message(name: str, limit: int, *, is_import: bool, whole_request: bool = False) -> str:
    """Why the upload was refused: the file's name (or the files together), the limit, what to do."""
    if whole_request and not is_import:
        return _(
            "The files sent together are larger than %(limit)s MB, the limit for one upload: they "
            "were not received, and nothing was done. Send fewer files at a time."
        ) % {"limit": _megabytes(limit)}
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
        total = request_limit(request)
        match = request.resolver_match
        is_import = match is not None and match.url_name in IMPORT_URL_NAMES
        # A body announced larger than the request's total (an import: its one file) is refused unread.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > total + FORM_OVERHEAD_BYTES:
            return self._refuse(request, "", total, is_import, True)
        try:
            request.POST  # noqa: B018 -- parse now, through SizeLimitUploadHandler
        except (OSError, MultiPartParserError):
            return None  # a broken body: CSRF and the view answer it as they always have
        stopped = getattr(request, TOO_LARGE, None)
        if stopped is not None:
            name, limit, whole_request = stopped
            return self._refuse(request, name, limit, is_import, whole_request)
        return None

    @staticmethod
    def _refuse(
        request: HttpRequest, name: str, limit: int, is_import: bool, whole_request: bool = False
    ) -> HttpResponse:
        context = {
            **admin.site.each_context(request),
            "title": _("The files are too large")
            if whole_request and not is_import
            else _("The file is too large"),
            "reason": too_large_message(name, limit, is_import=is_import, whole_request=whole_request),
            "back": request.path,
        }
        return TemplateResponse(request, "admin/upload_too_large.html", context, status=413)
