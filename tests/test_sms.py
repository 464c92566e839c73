"""SMS backends: console, in-memory, and the HTTP JSON provider against a real loopback server."""

import socket
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from orders import sms

from .sms_provider import TOKEN, start_provider, stop_provider


@pytest.fixture
def provider():
    server = start_provider()
    yield server
    stop_provider(server)


@pytest.fixture
def http_sms(settings, provider):
    settings.SMS_URL = provider.url
    settings.SMS_TOKEN = TOKEN
    settings.SMS_TIMEOUT = 2.0
    return provider


def test_console_backend_prints_the_message(settings, capsys):
    # given
    settings.SMS_URL = "console:"

    # when
    sms.send_sms("+34600000001", "Reembolso emitido", idempotency_key="k1")

    # then
    printed = capsys.readouterr().out
    assert "+34600000001" in printed
    assert "Reembolso emitido" in printed


def test_locmem_backend_keeps_messages_in_outbox(settings):
    # given
    settings.SMS_URL = "locmem:"
    sms.outbox.clear()

    # when
    sms.send_sms("+8613800000000", "您的订单已退款", idempotency_key="refund:1:sms:refund_confirmation")

    # then
    assert sms.outbox == [
        sms.SmsMessage("+8613800000000", "您的订单已退款", "refund:1:sms:refund_confirmation")
    ]


def test_unknown_scheme_is_a_configuration_error(settings):
    settings.SMS_URL = "carrier-pigeon://loft"
    with pytest.raises(ImproperlyConfigured, match="console:, locmem:"):
        sms.get_backend()
    # send_sms reports it as a permanent failure: no retry will fix a wrong setting
    with pytest.raises(sms.PermanentSmsError):
        sms.send_sms("+34600000001", "x")


def test_http_backend_posts_json_with_token_and_idempotency_key(http_sms):
    # when
    sms.send_sms("+34600000001", "Reembolso de 10.00 USD", idempotency_key="refund:7:sms:refund_confirmation")

    # then
    assert len(http_sms.requests) == 1
    request = http_sms.requests[0]
    assert request.payload == {"to": "+34600000001", "text": "Reembolso de 10.00 USD"}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["idempotency-key"] == "refund:7:sms:refund_confirmation"
    assert request.headers["content-type"].startswith("application/json")
    assert list(http_sms.delivered) == ["refund:7:sms:refund_confirmation"]


def test_http_backend_sends_chinese_text_intact(http_sms):
    sms.send_sms("+8613800000000", "您的速卖通订单 8100 已退款", idempotency_key="k-zh")
    assert http_sms.delivered["k-zh"]["text"] == "您的速卖通订单 8100 已退款"


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_http_server_errors_are_retryable(http_sms, status):
    http_sms.status = status
    with pytest.raises(sms.RetryableSmsError, match=f"HTTP {status}"):
        sms.send_sms("+34600000001", "x", idempotency_key="k")
    assert http_sms.delivered == {}


@pytest.mark.parametrize("status", [400, 403, 422])
def test_http_client_errors_are_permanent(http_sms, status):
    http_sms.status = status
    with pytest.raises(sms.PermanentSmsError, match=f"HTTP {status}"):
        sms.send_sms("+34600000001", "x", idempotency_key="k")


def test_wrong_token_is_permanent(settings, http_sms):
    settings.SMS_TOKEN = "wrong"
    with pytest.raises(sms.PermanentSmsError, match="HTTP 401"):
        sms.send_sms("+34600000001", "x", idempotency_key="k")


def test_slow_provider_times_out_as_retryable(settings, http_sms):
    # given: the provider takes longer than our timeout to answer
    settings.SMS_TIMEOUT = 0.3
    http_sms.delay = 1.5

    # when / then
    with pytest.raises(sms.RetryableSmsError, match=r"did not answer|unreachable"):
        sms.send_sms("+34600000001", "x", idempotency_key="k-slow")


def test_unreachable_provider_is_retryable(settings):
    # given: a port on which nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SMS_URL = f"http://127.0.0.1:{port}/send"

    # when / then
    with pytest.raises(sms.RetryableSmsError, match="unreachable"):
        sms.send_sms("+34600000001", "x", idempotency_key="k")


def test_a_garbled_answer_is_retryable(settings):
    # given: something on the provider's port that answers with a broken status line, then hangs up
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    settings.SMS_URL = f"http://127.0.0.1:{server.getsockname()[1]}/send"

    def answer_garbage() -> None:
        conn, _addr = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"NOT-HTTP garbage\r\n\r\n")

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()

    # when / then
    try:
        with pytest.raises(sms.RetryableSmsError, match="broken answer"):
            sms.send_sms("+34600000001", "x", idempotency_key="k-garbled")
    finally:
        thread.join(timeout=5)
        server.close()


def test_provider_drops_a_repeated_idempotency_key(http_sms):
    # The de-duplication that closes the crash window: the same key twice is one message.
    sms.send_sms("+34600000001", "x", idempotency_key="refund:9:sms:refund_confirmation")
    sms.send_sms("+34600000001", "x", idempotency_key="refund:9:sms:refund_confirmation")
    assert len(http_sms.requests) == 2
    assert len(http_sms.delivered) == 1
