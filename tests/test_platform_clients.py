"""The platform clients (issue 22): both documents' signature test vectors, the envelopes, the
retries with back-off, and the fake that tests them, over real HTTP on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from orders.platforms import alibaba1688, aliexpress
from orders.platforms.alibaba1688 import Alibaba1688Client
from orders.platforms.aliexpress import AliExpressClient
from orders.platforms.common import (
    Limits,
    PlatformError,
    PlatformUnavailable,
    Transport,
    china_text,
    from_china,
    from_pacific,
    pacific_text,
)
from orders.platforms.fake import FakeGateways, fake_order
from tests.platform_support import (
    AE_KEY,
    AE_SECRET,
    AE_TOKEN,
    KEY_1688,
    SECRET_1688,
    TOKEN_1688,
    quick_transport,
)

# --- the documents' signature test vectors ------------------------------------------------------


def test_aliexpress_vector_a_business_api():
    params = {
        "app_key": "500123",
        "format": "json",
        "method": "aliexpress.solution.order.get",
        "param0": '{"current_page":1,"modified_date_start":"2024-05-29 00:00:00","page_size":20}',
        "partner_id": "iop-sdk-python-20220609",
        "session": "ae-token-store-a",
        "sign_method": "sha256",
        "simplify": "false",
        "timestamp": "1717000000000",
    }
    assert aliexpress.sign(params, "ae-test-secret-0001") == (
        "74A0E3FA8799CACE532CF328AB833AA404EF12259A3F61B4D8F41B8EB4961ED3"
    )


def test_aliexpress_vector_b_system_api_signs_its_path_first():
    params = {
        "method": "/auth/token/create",
        "app_key": "500123",
        "code": "0_ABC",
        "sign_method": "sha256",
        "timestamp": "1717000000000",
    }
    assert aliexpress.sign(params, "ae-test-secret-0001") == (
        "B2BA6818CA6ACC491D536F70A8974114E995A718B9E976247180DFDEFDD0C96D"
    )


def test_1688_published_example():
    assert alibaba1688.sign("param2/1/system/currentTime/1000000", {"b": "2", "a": "1"}, "test123") == (
        "33E54F4F7B989E3E0E912D3FBD2F1A03CA7CCE88"
    )


def test_1688_vector_refund_reasons():
    path = alibaba1688.url_path("alibaba.trade.getRefundReasonList", "1688123")
    params = {
        "access_token": "aop-token-buyer-1",
        "_aop_timestamp": "1717000000000",
        "orderId": "2202100000000001",
        "orderEntryIds": "[2202100000000101]",
        "goodsStatus": "refundWaitBuyerReceive",
    }
    assert path == "param2/1/com.alibaba.trade/alibaba.trade.getRefundReasonList/1688123"
    assert (
        alibaba1688.sign(path, params, "aop-test-secret-0001") == "7EF8C84A7C70FB0E216A540F7DC7029BD16A7D74"
    )


def test_the_platforms_times():
    summer = datetime(2024, 7, 1, 17, 0, tzinfo=UTC)
    assert pacific_text(summer) == "2024-07-01 10:00:00"  # PDT, UTC-7
    assert from_pacific("2024-01-15 10:00:00") == datetime(2024, 1, 15, 18, 0, tzinfo=UTC)  # PST, UTC-8
    assert from_pacific("2024-11-03 01:30:00") == datetime(
        2024, 11, 3, 8, 30, tzinfo=UTC
    )  # repeated: the first
    assert from_pacific("not a time") is None
    assert china_text(datetime(2024, 5, 20, 2, 5, tzinfo=UTC)) == "20240520100500000+0800"
    assert from_china("20240520100500000+0800") == datetime(2024, 5, 20, 2, 5, tzinfo=UTC)


# --- against the fake, over HTTP ------------------------------------------------------------------


@pytest.fixture
def gateways():
    with FakeGateways() as fake:
        fake.add_aliexpress_seller(AE_KEY, AE_SECRET, AE_TOKEN)
        fake.add_1688_buyer(KEY_1688, SECRET_1688, TOKEN_1688)
        yield fake


def ae(fake: FakeGateways, *, secret: str = AE_SECRET, token: str = AE_TOKEN, **options) -> AliExpressClient:
    return AliExpressClient(
        gateway=fake.aliexpress_gateway,
        app_key=AE_KEY,
        app_secret=secret,
        session=token,
        transport=options.pop("transport", None) or quick_transport(),
        **options,
    )


def alibaba(fake: FakeGateways, **options) -> Alibaba1688Client:
    return Alibaba1688Client(
        prefix=fake.alibaba_prefix,
        app_key=KEY_1688,
        app_secret=options.pop("secret", SECRET_1688),
        access_token=options.pop("token", TOKEN_1688),
        transport=quick_transport(),
        **options,
    )


def window() -> dict:
    now = datetime.now(UTC)
    return {"start": now - timedelta(hours=1), "end": now}


def test_orders_are_listed_by_page_newest_first_and_finish_only_on_its_own(gateways):
    for n in range(7):
        gateways.put_order(
            AE_TOKEN,
            fake_order(str(8100000000000010 + n), created=datetime.now(UTC) - timedelta(hours=9 - n)),
        )
    gateways.put_order(AE_TOKEN, fake_order("8100000000000099", status="FINISH"))
    client = ae(gateways)
    first = client.orders(**window(), page=1, page_size=5)
    second = client.orders(**window(), page=2, page_size=5)
    assert (first.pages, first.total, len(first.rows), len(second.rows), second.last) == (2, 7, 5, 2, True)
    assert first.rows[0]["order_id"] == 8100000000000016
    finished = client.orders(**window(), page=1, page_size=50, statuses=["FINISH"])
    assert [row["order_id"] for row in finished.rows] == [8100000000000099]


def test_a_wrong_secret_is_an_error_naming_the_code_and_is_not_retried(gateways):
    with pytest.raises(PlatformError) as raised:
        ae(gateways, secret="wrong").orders(**window(), page=1, page_size=50)
    assert raised.value.code == "IncompleteSignature" and not raised.value.retryable
    assert "AliExpress aliexpress.solution.order.get answered IncompleteSignature" in str(raised.value)
    assert gateways.calls("aliexpress", "aliexpress.solution.order.get") == 0


def test_an_expired_token_names_the_platforms_code(gateways):
    gateways.expire(AE_TOKEN)
    with pytest.raises(PlatformError, match="IllegalAccessToken"):
        ae(gateways).orders(**window(), page=1, page_size=50)


def test_both_token_parameter_names_and_both_timestamp_forms_are_accepted_by_the_fake(gateways):
    from orders.platforms.fake_apis import aliexpress_answer

    params = {
        "app_key": AE_KEY,
        "method": aliexpress.ORDER_LIST,
        "sign_method": "sha256",
        "access_token": AE_TOKEN,
    }
    params["timestamp"] = datetime.now(UTC).isoformat()
    params["param0"] = '{"current_page":1,"page_size":5}'
    params["sign"] = aliexpress.sign(params, AE_SECRET)
    status, body = aliexpress_answer(gateways.state, params)
    assert status == 200 and "aliexpress_solution_order_get_response" in body
    old = dict(params, timestamp=str(int((datetime.now(UTC) - timedelta(hours=3)).timestamp() * 1000)))
    old["sign"] = aliexpress.sign({k: v for k, v in old.items() if k != "sign"}, AE_SECRET)
    assert aliexpress_answer(gateways.state, old)[1]["error_response"]["code"] == "InvalidTimestamp"


@pytest.mark.parametrize("kind", ["http500", "throttle"])
def test_a_5xx_or_throttling_is_retried_with_back_off(gateways, kind):
    waits: list[float] = []
    transport = Transport(Limits(timeout=2, retries=3, backoff=0.5, max_bytes=10**6), sleep=waits.append)
    gateways.fail("aliexpress", kind=kind, times=2)
    page = ae(gateways, transport=transport).orders(**window(), page=1, page_size=50)
    assert page.pages == 0
    assert waits == ([0.5, 1.0] if kind == "http500" else [1.0, 1.0])  # the ban's 1 s, or doubling


def test_a_slow_answer_times_out_and_is_retried(gateways):
    gateways.fail("aliexpress", kind="slow", seconds=1.0, times=1)
    client = ae(gateways, transport=quick_transport(timeout=0.3))
    assert client.orders(**window(), page=1, page_size=50).total == 0
    assert client.transport.retried == 1


def test_a_fault_that_persists_is_unavailable_after_the_last_retry(gateways):
    gateways.fail("aliexpress", kind="http500", times=10)
    with pytest.raises(PlatformUnavailable) as raised:
        ae(gateways, transport=quick_transport(retries=2)).orders(**window(), page=1, page_size=50)
    assert raised.value.code == "HTTP 500" and "after retries" in str(raised.value)


def test_a_garbled_answer_or_an_oversized_one_is_a_clear_error(gateways):
    gateways.fail("aliexpress", kind="garbage")
    with pytest.raises(PlatformError, match="malformed"):
        ae(gateways).orders(**window(), page=1, page_size=50)
    small = Transport(Limits(timeout=2, retries=0, backoff=0, max_bytes=100), sleep=lambda s: None)
    with pytest.raises(PlatformError, match="too large"):
        ae(gateways, transport=small).orders(**window(), page=1, page_size=50)


def test_a_business_failure_inside_the_payload_names_its_code(gateways):
    with pytest.raises(PlatformError) as raised:
        ae(gateways).order_detail("8100000000000404")
    assert (raised.value.code, raised.value.message) == ("ORDER_NOT_FOUND", "no such order")


def test_the_network_refusing_is_retried_then_unavailable():
    client = AliExpressClient(
        gateway="http://127.0.0.1:9/sync",
        app_key="k",
        app_secret="s",
        session="t",
        transport=quick_transport(retries=1),
    )
    with pytest.raises(PlatformUnavailable, match="network"):
        client.orders(**window(), page=1, page_size=50)


def test_the_secret_and_the_token_are_sent_only_to_the_gateway_and_never_shown():
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, json={"aliexpress_solution_order_get_response": {"result": {"success": True}}}
        )

    http = httpx.Client(transport=httpx.MockTransport(record))
    client = AliExpressClient(
        gateway="https://gateway.test/sync",
        app_key="k",
        app_secret="the-secret",
        session="the-token",
        transport=Transport(Limits(2, 0, 0, 10**6), http=http),
    )
    client.orders(**window(), page=1, page_size=5)
    (request,) = sent
    assert request.method == "POST" and "the-token" not in str(request.url)
    assert b"the-secret" not in request.content and b"session=the-token" in request.content
    assert "the-secret" not in repr(client) and "the-token" not in repr(client)


# --- 1688 ------------------------------------------------------------------------------------------


def test_1688_calls_are_signed_and_read_in_their_three_envelopes(gateways):
    client = alibaba(gateways)
    assert client.refunds() == ([], 0)  # (b)
    with pytest.raises(PlatformError) as raised:  # (a)
        client.refund_reasons("2202100000000001", ["2202100000000101"], "refundWaitBuyerReceive")
    assert raised.value.code == "5001"
    gateways.put_1688_order(TOKEN_1688, {"baseInfo": {"id": 2202100000000001, "status": "waitbuyerreceive"}})
    assert client.buyer_view("2202100000000001")["baseInfo"]["status"] == "waitbuyerreceive"
    reasons = client.refund_reasons("2202100000000001", ["2202100000000101"], "refundWaitBuyerReceive")
    assert reasons[0]["id"] == 20021
    assert alibaba1688.business_failure({"errorCode": "500", "errorMessage": "refund data error"}) == (  # (c)
        "500",
        "refund data error",
    )


def test_1688_gateway_errors_name_their_code(gateways):
    with pytest.raises(PlatformError) as raised:
        alibaba(gateways, secret="wrong").refunds()
    assert raised.value.code == "gw.SignatureInvalid" and not raised.value.retryable
    gateways.expire(TOKEN_1688)
    with pytest.raises(PlatformError, match=r"gw\.InvalidAccessToken"):
        alibaba(gateways).refunds()


def test_1688_throttling_is_retried_whatever_its_http_status(gateways):
    gateways.fail("1688", kind="throttle", times=1)
    client = alibaba(gateways)
    assert client.refunds() == ([], 0)
    assert client.transport.retried == 1
