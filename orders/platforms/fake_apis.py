"""The fake gateways' state and AliExpress's answers (``/sync``), from the contracts; 1688's are in
``fake_1688``.

``FakeState`` is what the fake knows (apps, tokens, orders, disputes, faults). Each handler takes
the request's parameters and the state and returns (HTTP status, JSON body). The checks come
first, in the gateways' order: app key, signature (exact, as our clients compute it), timestamp
within ``TIMESTAMP_WINDOW`` (epoch ms, or an ISO UTC string: both readings of aliexpress.md §2),
token (``session`` or ``access_token``: both names, §2's open question), the injected faults,
then the API. The error codes are the documents' ([F] where they name the fake's own). No Django
here: the fake also runs on its own (``python -m orders.platforms.fake``).
"""

from __future__ import annotations

import json
import math
import threading
import time
from bisect import insort
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import aliexpress
from .common import from_pacific

TIMESTAMP_WINDOW = 7200  # seconds (aliexpress.md §2 [1]); the fake applies it to 1688 too [F]
MAX_AE_PAGE = 50  # the fake clamps page_size (aliexpress.md §5.1 [F])

Answer = tuple[int, dict[str, Any] | str]


@dataclass
class Fault:
    platform: str  # "aliexpress" or "1688"
    api: str | None  # None: any API
    kind: str  # "http500", "slow", "throttle", "garbage"
    times: int = 1
    seconds: float = 2.0


class FakeState:
    """Everything the fake knows; one lock, as the server answers in threads."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.lock = threading.RLock()
        self.ae_apps: dict[str, str] = {}
        self.ae_tokens: dict[str, str] = {}  # token → seller login id
        self.alibaba_apps: dict[str, str] = {}
        self.alibaba_tokens: dict[str, str] = {}  # token → buyer login id
        self.expired: set[str] = set()
        self.ae_orders: dict[str, dict[str, dict[str, Any]]] = {}  # seller → order id → order
        self._ae_index: dict[str, list[tuple[float, str]]] = {}  # seller → sorted (updated, id)
        self.ae_issues: dict[str, dict[str, dict[str, Any]]] = {}
        self.alibaba_orders: dict[str, dict[str, dict[str, Any]]] = {}
        self.alibaba_refunds: dict[str, dict[str, dict[str, Any]]] = {}  # buyer → refund id → refund
        self.alibaba_operations: dict[str, list[dict[str, Any]]] = {}  # refund id → operations, newest first
        self.alibaba_vouchers: dict[str, set[str]] = {}  # buyer → the voucher URLs it uploaded
        self.serial = 0  # the last refund the fake numbered
        self.demo_buyers: set[str] = set()  # 1688 buyers whose unknown orders are made up (make run)
        self.faults: list[Fault] = []
        self._listed: tuple[tuple, list] | None = None  # the last order query and its rows
        self.calls: dict[str, int] = {}  # "platform api" → how many answered

    # --- orders, by modified time -------------------------------------------------------------

    def put_order(self, seller: str, order: dict[str, Any]) -> None:
        order_id = str(order["order_id"])
        updated = from_pacific(order.get("gmt_update", "")) or datetime.fromtimestamp(self.clock(), UTC)
        with self.lock:
            orders = self.ae_orders.setdefault(seller, {})
            index = self._ae_index.setdefault(seller, [])
            old = orders.get(order_id)
            if old is not None:
                index.remove(((from_pacific(old.get("gmt_update", "")) or updated).timestamp(), order_id))
            orders[order_id] = order
            insort(index, (updated.timestamp(), order_id))
            self._listed = None

    def ae_orders_in(
        self, seller: str, start: datetime | None, end: datetime | None, statuses: tuple
    ) -> list:
        """The seller's orders modified in [start, end], newest ``gmt_create`` first; ``FINISH``
        ones only when ``statuses`` asks for them (aliexpress.md §5.1 [1])."""
        key = (seller, start, end, statuses)
        with self.lock:
            if self._listed is not None and self._listed[0] == key:
                return self._listed[1]  # the next page of the same query: nothing changed since
            index = self._ae_index.get(seller, [])
            orders = self.ae_orders.get(seller, {})
            low = start.timestamp() if start else float("-inf")
            high = end.timestamp() if end else float("inf")
            chosen = [orders[oid] for stamp, oid in index if low <= stamp <= high]
            if statuses:
                chosen = [o for o in chosen if o.get("order_status") in statuses]
            else:
                chosen = [o for o in chosen if o.get("order_status") != "FINISH"]
            chosen.sort(key=lambda o: (str(o.get("gmt_create", "")), str(o["order_id"])), reverse=True)
            self._listed = (key, chosen)
        return chosen

    # --- faults ---------------------------------------------------------------------------------

    def take_fault(self, platform: str, api: str) -> Answer | None:
        with self.lock:
            self.calls[f"{platform} {api}"] = self.calls.get(f"{platform} {api}", 0) + 1
            fault = next((f for f in self.faults if f.platform == platform and f.api in (None, api)), None)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return None
        if fault.kind == "http500":
            return 500, "Internal Server Error"
        if fault.kind == "garbage":
            return 200, "<html>gateway maintenance</html>"
        if platform == "aliexpress":
            return _ae_error("ApiCallLimit", "The request is throttled. This ban will last 1 seconds.")
        return gw_error("gw.QosAppFrequencyLimit", "App call frequency exceeds the limit, ban 1 seconds")


def _ae_error(code: str, message: str) -> Answer:
    return 200, {"error_response": {"type": "ISV", "code": code, "msg": message, "request_id": "fake"}}


def gw_error(code: str, message: str, status: int = 400) -> Answer:
    return status, {"error_code": code, "error_message": message, "exception": message}


def timestamp_ok(value: str, now: float) -> bool:
    value = (value or "").strip()
    if value.isdigit():
        moment = int(value) / 1000
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return abs(now - moment) <= TIMESTAMP_WINDOW


# --- AliExpress -----------------------------------------------------------------------------------


def aliexpress_answer(state: FakeState, params: dict[str, str]) -> Answer:
    secret = state.ae_apps.get(params.get("app_key", ""))
    if secret is None:
        return _ae_error("InvalidAppKey", "The app key is not valid")
    if not params.get("sign"):
        return _ae_error("IncompleteSignature", "The request signature is missing")
    signed = {k: v for k, v in params.items() if k != "sign"}
    if aliexpress.sign(signed, secret) != params["sign"]:
        return _ae_error(
            "IncompleteSignature", "The request signature does not conform to platform standards"
        )
    if not timestamp_ok(params.get("timestamp", ""), state.clock()):
        return _ae_error("InvalidTimestamp", "The timestamp is out of the allowed window")
    token = params.get("session") or params.get("access_token") or ""
    seller = state.ae_tokens.get(token)
    if seller is None or token in state.expired:
        return _ae_error("IllegalAccessToken", "The specified access token is invalid or expired")
    method = params.get("method", "")
    fault = state.take_fault("aliexpress", method)
    if fault is not None:
        return fault
    handler = _AE_APIS.get(method)
    if handler is None:
        return _ae_error("InvalidApiPath", f"The specified API {method[:60]} does not exist")
    try:
        return 200, {method.replace(".", "_") + "_response": handler(state, seller, params)}
    except _Missing as missing:
        return _ae_error("MissingParameter", f"The input parameter {missing} is required")
    except (ValueError, TypeError, KeyError) as bad:
        return _ae_error("InvalidParameter", f"An input parameter is not valid ({type(bad).__name__})")


class _Missing(Exception):
    pass


def _json_param(params: dict[str, str], name: str) -> dict[str, Any]:
    if name not in params:
        raise _Missing(name)
    value = json.loads(params[name])
    if not isinstance(value, dict):
        raise ValueError(name)
    return value


def _order_list(state: FakeState, seller: str, params: dict[str, str]) -> dict[str, Any]:
    query = _json_param(params, "param0")
    size = max(1, min(int(query.get("page_size") or 20), MAX_AE_PAGE))
    page = max(1, int(query.get("current_page") or 1))
    start = from_pacific(query["modified_date_start"]) if query.get("modified_date_start") else None
    end = from_pacific(query["modified_date_end"]) if query.get("modified_date_end") else None
    statuses = tuple(
        query.get("order_status_list") or ([query["order_status"]] if query.get("order_status") else [])
    )
    rows = state.ae_orders_in(seller, start, end, statuses)
    chosen = rows[(page - 1) * size : page * size]
    return {
        "request_id": "fake",
        "result": {
            "success": True,
            "total_count": len(rows),
            "total_page": math.ceil(len(rows) / size),
            "current_page": page,
            "page_size": size,
            "time_stamp": datetime.fromtimestamp(state.clock(), UTC).isoformat(),
            "target_list": {"order_dto": chosen},
        },
    }


def _order_detail(state: FakeState, seller: str, params: dict[str, str]) -> dict[str, Any]:
    query = _json_param(params, "param1")
    order = state.ae_orders.get(seller, {}).get(str(query.get("order_id")))
    if order is None:
        return {
            "result": {
                "result_success": False,
                "error_code": "ORDER_NOT_FOUND",
                "error_message": "no such order",
            }
        }
    data = {
        "id": order["order_id"],
        "order_status": order["order_status"],
        "gmt_create": order.get("gmt_create"),
        "gmt_modified": order.get("gmt_update"),
        "gmt_pay_success": order.get("gmt_pay_time"),
        "buyerloginid": order.get("buyer_login_id"),
        "order_amount": order.get("pay_amount"),
        "issue_status": order.get("issue_status"),
        "logistic_info_list": {
            "global_aeop_tp_logistic_info_dto": [
                {
                    "logistics_no": order.get("fake_tracking") or f"LP{order['order_id']}",
                    "logistics_service": "CAINIAO_STANDARD",
                }
            ]
            if order.get("gmt_send_goods_time")
            else []
        },
        "child_order_list": {
            "global_aeop_tp_child_order_dto": order.get("product_list", {}).get("order_product_dto", [])
        },
    }
    return {"result": {"result_success": True, "data": data}}


def _issue_list(state: FakeState, seller: str, params: dict[str, str]) -> dict[str, Any]:
    query = _json_param(params, "query_dto")
    size = max(1, min(int(query.get("page_size") or 20), MAX_AE_PAGE))
    page = max(1, int(query.get("current_page") or 1))
    wanted = query.get("issue_status")
    rows = [i for i in state.ae_issues.get(seller, {}).values() if not wanted or i["issue_status"] == wanted]
    rows.sort(key=lambda issue: str(issue["issue_id"]))
    listed = [
        {k: v for k, v in issue.items() if k in _ISSUE_LIST_FIELDS}
        for issue in rows[(page - 1) * size : page * size]
    ]
    return {
        "current_page": page,
        "page_size": size,
        "total_item": len(rows),
        "data_list": {"issue_api_issue_dto": listed},
    }


_ISSUE_LIST_FIELDS = {
    "issue_id", "order_id", "parent_order_id", "buyer_login_id", "issue_status", "gmt_create", "gmt_modified",
    "reason_chinese", "reason_english",
}  # fmt: skip


def _issue_detail(state: FakeState, seller: str, params: dict[str, str]) -> dict[str, Any]:
    if "issue_id" not in params:
        raise _Missing("issue_id")
    issue = state.ae_issues.get(seller, {}).get(params["issue_id"])
    if issue is None:
        return {"result_object": None, "result_success": False}
    detail = {
        "id": issue["issue_id"],
        "order_id": issue["order_id"],
        "parent_order_id": issue["parent_order_id"],
        "buyer_login_id": issue.get("buyer_login_id"),
        "issue_status": issue["issue_status"],
        "issue_reason": issue.get("reason_english"),
        "gmt_create": issue.get("gmt_create"),
        "buyer_solution_list": {"solution_api_dto": issue.get("solutions", [])},
    }
    return {"result_object": detail}


_AE_APIS = {
    aliexpress.ORDER_LIST: _order_list,
    aliexpress.ORDER_DETAIL: _order_detail,
    "aliexpress.trade.new.redefining.findorderbyid": _order_detail,
    aliexpress.ISSUE_LIST: _issue_list,
    aliexpress.ISSUE_DETAIL: _issue_detail,
}
