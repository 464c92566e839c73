"""A fake of both gateways on loopback, for development and tests (docs/platforms.md).

Built from ``shared/platforms/aliexpress.md`` and ``1688.md``: exact signature checks, timestamps
within a window, paging by modified time (newest ``gmt_create`` first, ``FINISH`` only when asked
for), the documents' error codes, and injected faults (HTTP 500, slow answers, throttling, a
garbled answer). Its answers are in ``fake_apis``; this module holds its state, the HTTP server
and a small JSON API under ``/_fake/`` to register apps and tokens, put orders and disputes and
inject faults (the bench and ``make run`` drive a fake in another process through it).

In a test::

    with FakeGateways() as fake:
        fake.add_aliexpress_seller(APP_KEY, SECRET, TOKEN)
        fake.put_order(TOKEN, fake_order("8100000000000001"))
        fake.fail("aliexpress", kind="http500", times=2)

``python -m orders.platforms.fake --port 8765 --demo`` runs it for ``make run``: the demo stores'
credentials are known to it, new orders keep arriving, a 1688 order it has never seen is made up
when a demo store files a refund on it, and the suppliers answer those requests. No Django is
needed to run it.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .common import pacific_text
from .fake_1688 import alibaba_answer, demo_answers, supplier_decides
from .fake_apis import FakeState, Fault, aliexpress_answer

# The demo's credentials (seed_demo connects the demo stores with them; ``make run`` points the
# gateways at the fake). Never valid anywhere else.
DEMO_AE_APP_KEY, DEMO_AE_SECRET = "demo-ae-app", "demo-ae-secret-not-a-real-one"
DEMO_1688_APP_KEY, DEMO_1688_SECRET = "demo-1688-app", "demo-1688-secret-not-a-real-one"
DEMO_TOKENS = {"main": "demo-ae-token-main", "eu": "demo-ae-token-eu"}
DEMO_1688_TOKENS = {"main": "demo-1688-token-main", "eu": "demo-1688-token-eu"}
MAX_BODY = 10 * 1024 * 1024
_SKUS = [
    ("SKU-PHC-001", "硅胶手机壳 Silicone phone case", "2.35"),
    ("SKU-BAG-310", "帆布包 Canvas tote bag", "5.40"),
    ("SKU-KIT-042", "厨房秤 Kitchen scale", "7.80"),
]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without this, Nagle's algorithm holds the body until
    # the client's delayed ACK (40 ms a request on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the dev server
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, "too large")
            return
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        state = self.server.state
        if url.path.startswith("/_fake/"):
            try:
                status, answer = self.server.fake.command(
                    url.path[len("/_fake/") :], json.loads(body or b"{}")
                )
            except (ValueError, KeyError, TypeError) as error:
                status, answer = 400, {"error": f"{type(error).__name__}: {error}"}
            self._send(status, answer)
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        files: dict[str, bytes] = {}
        kind = self.headers.get("Content-Type") or ""
        if body and "x-www-form-urlencoded" in kind:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif body and kind.startswith("multipart/form-data"):
            fields, files = multipart(kind, body)
            params.update(fields)
        if url.path == "/sync":
            status, answer = aliexpress_answer(state, params)
        elif url.path.startswith("/openapi/"):
            status, answer = alibaba_answer(state, url.path[len("/openapi/") :], params, files)
        else:
            status, answer = 404, "not found"
        self._send(status, answer)

    def _send(self, status: int, answer: dict | str) -> None:
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if isinstance(answer, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """The text fields and the file parts of a ``multipart/form-data`` body."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[str(name)] = data
        else:
            fields[str(name)] = data.decode("utf-8", "replace")
    return fields, files


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeGateways):
        self.fake = fake
        self.state = fake.state
        super().__init__(address, _Handler)


class FakeGateways:
    """Both fake gateways on one loopback port (``port=0``: any free one)."""

    def __init__(self, *, port: int = 0, clock=time.time):
        self.state = FakeState(clock)
        self.server = _Server(("127.0.0.1", port), self)
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def aliexpress_gateway(self) -> str:
        return f"http://127.0.0.1:{self.port}/sync"

    @property
    def alibaba_prefix(self) -> str:
        return f"http://127.0.0.1:{self.port}/openapi/"

    def start(self) -> FakeGateways:
        # serve_forever looks for a stop every poll_interval (0.5 s by default): each stop of the
        # fake waited that long, 0.5 s of every test that used it.
        serve = functools.partial(self.server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, name="fake-gateways", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeGateways:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- set-up -----------------------------------------------------------------------------------

    def add_aliexpress_seller(self, app_key: str, secret: str, token: str, seller: str | None = None) -> None:
        with self.state.lock:
            self.state.ae_apps[app_key] = secret
            self.state.ae_tokens[token] = seller or f"seller-{token}"

    def add_1688_buyer(self, app_key: str, secret: str, token: str, buyer: str | None = None) -> None:
        with self.state.lock:
            self.state.alibaba_apps[app_key] = secret
            self.state.alibaba_tokens[token] = buyer or f"buyer-{token}"

    def expire(self, token: str) -> None:
        with self.state.lock:
            self.state.expired.add(token)

    def put_order(self, token: str, order: dict[str, Any]) -> dict[str, Any]:
        """Add or replace an order of the seller of ``token`` (its ``gmt_update`` says when it changed)."""
        self.state.put_order(self.state.ae_tokens[token], order)
        return order

    def change_order(self, token: str, order_id: str, *, at: datetime | None = None, **fields: Any) -> dict:
        """Change an order's fields; it is modified at ``at`` (default: two minutes ago)."""
        seller = self.state.ae_tokens[token]
        with self.state.lock:
            order = dict(self.state.ae_orders[seller][str(order_id)])
        order.update(fields, gmt_update=pacific_text(at or self.recently()))
        return self.put_order(token, order)

    def put_issue(self, token: str, issue: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            self.state.ae_issues.setdefault(self.state.ae_tokens[token], {})[str(issue["issue_id"])] = issue
        return issue

    def put_1688_order(self, token: str, order: dict[str, Any]) -> None:
        with self.state.lock:
            buyer = self.state.alibaba_tokens[token]
            self.state.alibaba_orders.setdefault(buyer, {})[str(order["baseInfo"]["id"])] = order

    def supplier_decides(self, refund_id: str, decision: str, **options: Any) -> dict[str, Any]:
        """The supplier answers a 1688 refund: ``agree``, ``refuse`` (``reason=``), ``receive``,
        ``close`` (``fake_1688.supplier_decides``)."""
        return supplier_decides(self.state, refund_id, decision, **options)

    def refunds_1688(self, token: str) -> list[dict[str, Any]]:
        """The 1688 refunds of the buyer of ``token``, oldest first (copies)."""
        with self.state.lock:
            found = self.state.alibaba_refunds.get(self.state.alibaba_tokens[token], {})
            return [dict(r) for r in sorted(found.values(), key=lambda r: r["refundId"])]

    def fail(
        self, platform: str, *, kind: str, times: int = 1, api: str | None = None, seconds: float = 2.0
    ) -> None:
        """The next ``times`` calls of ``api`` (any when ``None``) on ``platform`` fail with ``kind``."""
        with self.state.lock:
            self.state.faults.append(Fault(platform, api, kind, times, seconds))

    def calls(self, platform: str, api: str) -> int:
        return self.state.calls.get(f"{platform} {api}", 0)

    def recently(self) -> datetime:
        """Two minutes ago: a pass reads up to a minute ago, so an order changed then is read."""
        return datetime.fromtimestamp(self.state.clock(), UTC) - timedelta(minutes=2)

    # --- the JSON API under /_fake/ (another process's fake) --------------------------------------

    def command(self, name: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if name == "aliexpress/seller":
            self.add_aliexpress_seller(body["app_key"], body["secret"], body["token"], body.get("seller"))
        elif name == "1688/buyer":
            self.add_1688_buyer(body["app_key"], body["secret"], body["token"], body.get("buyer"))
        elif name == "aliexpress/orders":
            for order in body["orders"]:
                self.put_order(body["token"], order)
        elif name == "aliexpress/generate":
            at = datetime.fromisoformat(body["modified_at"]) if body.get("modified_at") else self.recently()
            for n in range(int(body["count"])):
                self.put_order(body["token"], fake_order(str(int(body["first_id"]) + n), modified=at))
        elif name == "1688/orders":
            for order in body["orders"]:
                self.put_1688_order(body["token"], order)
        elif name == "1688/answer":
            options = {"reason": body.get("reason", ""), "payment": body.get("payment")}
            self.supplier_decides(body["refund_id"], body["decision"], **options)
        elif name == "aliexpress/issues":
            for issue in body["issues"]:
                self.put_issue(body["token"], issue)
        elif name == "fault":
            self.fail(
                body["platform"], kind=body["kind"], times=int(body.get("times", 1)), api=body.get("api")
            )
        elif name == "expire":
            self.expire(body["token"])
        elif name != "calls":
            return 404, {"error": f"no command {name}"}
        return 200, {"ok": True, "calls": dict(self.state.calls)}


def fake_order(
    order_id: str,
    *,
    status: str = "WAIT_SELLER_SEND_GOODS",
    modified: datetime | None = None,
    created: datetime | None = None,
    amount: str = "2.35",
    quantity: int = 1,
    sku: tuple[str, str, str] = _SKUS[0],
    buyer: str = "Maria Garcia",
    **fields: Any,
) -> dict[str, Any]:
    """An AliExpress order as ``aliexpress.solution.order.get`` lists it (aliexpress.md §5.1)."""
    modified = modified or datetime.now(UTC) - timedelta(minutes=2)
    created = created or modified - timedelta(hours=3)
    code, title, unit = sku
    paid = status not in ("PLACE_ORDER_SUCCESS",)
    shipped = status in (
        "SELLER_PART_SEND_GOODS",
        "WAIT_BUYER_ACCEPT_GOODS",
        "FUND_PROCESSING",
        "FINISH",
        "IN_ISSUE",
    )
    order = {
        "order_id": int(order_id) if order_id.isdigit() else order_id,
        "order_status": status,
        "gmt_create": pacific_text(created),
        "gmt_update": pacific_text(modified),
        "buyer_login_id": "us" + str(order_id)[-6:],
        "buyer_signer_fullname": buyer,
        "seller_login_id": "cn-seller",
        "pay_amount": {"amount": amount, "currency_code": "USD"},
        "fund_status": "PAY_SUCCESS" if paid else "NOT_PAY",
        "frozen_status": "NO_FROZEN",
        "issue_status": "IN_ISSUE" if status == "IN_ISSUE" else "NO_ISSUE",
        "logistics_status": "SELLER_SEND_GOODS" if shipped else "WAIT_SELLER_SEND_GOODS",
        "product_list": {
            "order_product_dto": [
                {
                    "child_id": int(order_id) + 1_000_000_000_000 if order_id.isdigit() else order_id,
                    "product_id": 1005001234567890,
                    "product_name": title,
                    "product_count": quantity,
                    "product_unit_price": {"amount": unit, "currency_code": "USD"},
                    "sku_code": code,
                }
            ]
        },
    }
    if paid:
        order["gmt_pay_time"] = pacific_text(created + timedelta(minutes=5))
    if shipped:
        order["gmt_send_goods_time"] = pacific_text(created + timedelta(hours=1))
    order.update(fields)
    return order


def fake_1688_order(
    order_id: str,
    entry_ids: list[str],
    *,
    status: str = "confirm_goods",
    amount: str = "90.00",
    quantity: int = 2,
    shipping: str = "0.00",
) -> dict[str, Any]:
    """A 1688 order as ``get.buyerView`` answers it (1688.md §4.7): ``amount`` (yuan) paid for its
    goods, split evenly over ``entry_ids``, ``quantity`` units each entry."""
    share = (Decimal(amount) / len(entry_ids)).quantize(Decimal("0.01"))
    items = [
        {
            "subItemID": int(entry),
            "subItemIDString": entry,
            "name": "硅胶手机壳",
            "quantity": quantity,
            "price": str((share / quantity).quantize(Decimal("0.01"))),
            "itemAmount": str(share if n else Decimal(amount) - share * (len(entry_ids) - 1)),
            "status": status,
            "refundStatus": "",
        }
        for n, entry in enumerate(entry_ids)
    ]
    return {
        "baseInfo": {
            "id": int(order_id),
            "idOfStr": order_id,
            "status": status,
            "totalAmount": str(Decimal(amount) + Decimal(shipping)),
            "shippingFee": shipping,
            "refund": "0",
            "sellerID": "cn-supplier-fake",
        },
        "productItems": items,
    }


# --- the demo: orders keep arriving -----------------------------------------------------------------


def _demo(fake: FakeGateways, every: float, rng: random.Random) -> None:
    serial = dict.fromkeys(DEMO_TOKENS.values(), 0)
    steps = {
        "PLACE_ORDER_SUCCESS": "WAIT_SELLER_SEND_GOODS",
        "WAIT_SELLER_SEND_GOODS": "WAIT_BUYER_ACCEPT_GOODS",
        "WAIT_BUYER_ACCEPT_GOODS": "FINISH",
    }
    base = int(time.time()) % 10_000_000
    while True:
        for index, token in enumerate(DEMO_TOKENS.values()):
            serial[token] += 1
            order_id = f"81{index}{base:07d}{serial[token]:06d}"
            now = datetime.now(UTC) - timedelta(seconds=70)
            status = rng.choice(["PLACE_ORDER_SUCCESS", "WAIT_SELLER_SEND_GOODS", "WAIT_SELLER_SEND_GOODS"])
            fake.put_order(token, fake_order(order_id, status=status, modified=now, sku=rng.choice(_SKUS)))
            with fake.state.lock:
                known = list(fake.state.ae_orders[fake.state.ae_tokens[token]].values())
            older = rng.choice(known)
            following = steps.get(older["order_status"])
            if rng.random() < 0.1 and older["order_status"] == "WAIT_SELLER_SEND_GOODS":
                following = "IN_CANCEL"
            if following:
                shipped = (
                    {"gmt_send_goods_time": pacific_text(now)}
                    if following == "WAIT_BUYER_ACCEPT_GOODS"
                    else {}
                )
                fake.change_order(token, str(older["order_id"]), at=now, order_status=following, **shipped)
        demo_answers(fake.state, after=every, rng=rng)  # the suppliers answer the refund requests
        time.sleep(every)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A loopback fake of the AliExpress and 1688 gateways.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--demo", action="store_true", help="Know the demo stores and keep orders coming.")
    parser.add_argument("--every", type=float, default=30.0, help="Seconds between the demo's new orders.")
    options = parser.parse_args(argv)
    fake = FakeGateways(port=options.port)
    if options.demo:
        for code, token in DEMO_TOKENS.items():
            fake.add_aliexpress_seller(DEMO_AE_APP_KEY, DEMO_AE_SECRET, token, seller=f"demo-{code}")
        for code, token in DEMO_1688_TOKENS.items():
            fake.add_1688_buyer(DEMO_1688_APP_KEY, DEMO_1688_SECRET, token, buyer=f"demo-buyer-{code}")
            fake.state.demo_buyers.add(f"demo-buyer-{code}")
        rng = random.Random(8765)  # noqa: S311 (demo data, repeatable)
        threading.Thread(target=_demo, args=(fake, options.every, rng), daemon=True).start()
    print(f"fake gateways: AliExpress {fake.aliexpress_gateway}, 1688 {fake.alibaba_prefix}", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":
    main()
