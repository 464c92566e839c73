"""Uploads stop at their size limit while they arrive (issue 12, part 4): shopops/uploads.py.

Requests go through Django's whole WSGI stack (CSRF enforced, as in production) with a request
body that counts the bytes the server reads from it.
"""

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from orders.models import Order
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db
BOUNDARY = "----shopopsboundary"


class CountingBody(io.RawIOBase):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes):
        self.data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.data.read(size)
        self.read_bytes += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        line = self.data.readline(size)
        self.read_bytes += len(line)
        return line


def _multipart(fields: dict[str, str], file_field: str, name: str, size: int) -> bytes:
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    parts.append(b"a" * size + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def _post(client: Client, path: str, body: bytes) -> tuple[int, str, int]:
    """POST ``body`` through the WSGI handler: (status, page, bytes of the body read)."""
    client.get(path)  # the CSRF cookie, as a browser would have it
    token = client.cookies["csrftoken"].value
    body = body.replace(b"CSRF", token.encode())
    stream = CountingBody(body)
    environ = client._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(len(body)),
        HTTP_REFERER="http://testserver" + path,
    )
    environ["wsgi.input"] = stream
    status = []
    # As Django's test client does: the request signals must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = WSGIHandler()(environ, lambda s, headers, exc=None: status.append(s))
        page = b"".join(response).decode()
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(status[0].split()[0]), page, stream.read_bytes


@pytest.fixture
def supervisor():
    client = Client()
    client.force_login(staff("Supervisor"))
    return client


def test_an_evidence_file_over_the_limit_is_stopped_while_it_arrives(supervisor, settings):
    # given: evidence files are limited to 100 KB; a 5 MB one is sent
    settings.SHOPOPS_ATTACHMENT_MAX_BYTES = 100 * 1024
    order = OrderFactory()
    body = _multipart({"csrfmiddlewaretoken": "CSRF", "kind": "note"}, "files", "scan.pdf", 5 * 1024 * 1024)
    # when
    status, page, read = _post(supervisor, f"/admin/orders/order/{order.pk}/evidence/", body)
    # then: refused with the file's name and the limit, after reading about the limit, not 5 MB
    assert status == 413
    assert "“scan.pdf” is larger than 0.0976562 MB, the limit for this upload" in page
    assert read < 1024 * 1024, read
    assert order.attachments.count() == 0 and order.communications.count() == 0


def test_an_import_announced_over_the_limit_is_refused_unread(supervisor, settings):
    settings.SHOPOPS_IMPORT_MAX_MB = 1
    body = _multipart({"csrfmiddlewaretoken": "CSRF"}, "file", "orders.csv", 3 * 1024 * 1024)
    status, page, read = _post(supervisor, "/admin/orders/order/import/", body)
    assert status == 413
    assert "imports are limited to 1 MB" in page
    assert read == 0
    assert Order.objects.count() == 0


def test_an_import_just_over_the_limit_is_stopped_at_the_limit(supervisor, settings):
    # given: within the form's slack by its Content-Length, but the file itself is over 1 MB
    settings.SHOPOPS_IMPORT_MAX_MB = 1
    body = _multipart({"csrfmiddlewaretoken": "CSRF"}, "file", "orders.csv", 1024 * 1024 + 1000)
    status, page, _read = _post(supervisor, "/admin/orders/order/import/", body)
    assert status == 413
    assert "“orders.csv” is larger than the limit: imports are limited to 1 MB" in page


def test_a_feedback_import_over_the_limit_is_stopped(supervisor, settings):
    settings.SHOPOPS_IMPORT_MAX_MB = 0.1
    body = _multipart({"csrfmiddlewaretoken": "CSRF"}, "file", "feedback.csv", 2 * 1024 * 1024)
    status, _page, read = _post(supervisor, "/admin/orders/feedback/import/", body)
    assert status == 413
    assert read < 1024 * 1024


def test_a_file_within_the_limit_goes_through_to_the_page(supervisor, settings):
    settings.SHOPOPS_IMPORT_MAX_MB = 1
    body = _multipart({"csrfmiddlewaretoken": "CSRF"}, "file", "orders.csv", 1000)
    status, page, read = _post(supervisor, "/admin/orders/order/import/", body)
    # the import page's own answer: the file is read whole and is not an order file
    assert status == 200
    assert read > len(body)  # all of it (with the real CSRF token in place of "CSRF")
    assert "header row cannot be read" in page


def _multipart_files(fields: dict[str, str], file_field: str, sizes: list[int]) -> bytes:
    """A form with one file of each size, all under the same field (an <input multiple>)."""
    body = _multipart(fields, file_field, "scan-1.png", sizes[0])
    parts = [body[: -len(f"--{BOUNDARY}--\r\n")]]
    for number, size in enumerate(sizes[1:], start=2):
        disposition = f'form-data; name="{file_field}"; filename="scan-{number}.png"'
        parts.append(
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        parts.append(b"a" * size + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def test_files_each_within_the_limit_but_over_the_request_total_are_refused_unread(supervisor):
    """12 × 9.5 MB (114 MB) was accepted in one evidence POST; three of them already pass 25 MB."""
    order = OrderFactory()
    sizes = [int(9.5 * 1024 * 1024)] * 3
    body = _multipart_files({"csrfmiddlewaretoken": "CSRF", "kind": "note"}, "files", sizes)
    status, page, read = _post(supervisor, f"/admin/orders/order/{order.pk}/evidence/", body)
    assert status == 413
    assert "The files sent together are larger than 25 MB, the limit for one upload" in page
    assert read == 0
    assert order.attachments.count() == 0 and order.communications.count() == 0


def test_files_over_the_request_total_are_stopped_while_they_arrive(supervisor, settings):
    # given: a body announced within the total and its slack, whose files go over the total
    settings.SHOPOPS_UPLOAD_REQUEST_MAX_MB = 1
    order = OrderFactory()
    body = _multipart_files({"csrfmiddlewaretoken": "CSRF", "kind": "note"}, "files", [350 * 1024] * 3)
    # when
    status, page, _read = _post(supervisor, f"/admin/orders/order/{order.pk}/evidence/", body)
    # then
    assert status == 413
    assert "The files sent together are larger than 1 MB" in page
    assert order.attachments.count() == 0 and order.communications.count() == 0
