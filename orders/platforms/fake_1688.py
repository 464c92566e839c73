"""The fake 1688 gateway's answers (``/openapi/``), from ``shared/platforms/1688.md``.

The checks come first, in the gateway's order (the path, the app key, the API, the signature —
``imageData`` left out, as 1688 signs no file —, the timestamp, the token, the injected faults);
then the buyer-side refund APIs:

- ``get.buyerView``, ``getRefundReasonList`` (two reasons, both needing vouchers [F]);
- ``uploadRefundVoucher``: one ``imageData`` part, JPEG or PNG under 1 MB [F]; its URL is known
  to the fake afterwards, and only such URLs are vouchers;
- ``createRefund`` with 1688.md §4.3's rules and codes: the goods status must fit the order's
  status (5010), a return only after receipt (5010), entries of the order (5010), an open refund
  on the same entry (5010 [F]), the reason (5004), vouchers when it needs them (5005), carriage
  0 when the reason says so (5006) and at most the shipping fee (5011), the amount at most what
  was paid less what was refunded, and all of it while the supplier has not shipped (5011), the
  description 2–150 characters (5012), the return quantities (5013), 1–5 vouchers the fake
  issued (5100 [F]);
- ``refund.buyer.queryOrderRefundList`` (0-based pages, ``orderId``, ``modifyStartTime``,
  ``refundStatusSet``), ``refund.OpQueryOrderRefund`` (envelope (c) ``500`` for an unknown
  refund), ``refund.OpQueryOrderRefundOperationList``.

:func:`supplier_decides` is the supplier's side, for tests and the demo: agree (a money-only
refund is paid at once; a return waits for the goods), refuse with a reason, receive the goods
back, or close.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from . import alibaba1688
from .common import china_text, from_china
from .fake_apis import Answer, FakeState, gw_error, timestamp_ok

GOODS_STATUSES = (
    "refundWaitSellerSend",
    "refundWaitBuyerReceive",
    "refundBuyerReceived",
    "aftersaleBuyerNotReceived",
    "aftersaleBuyerReceived",
)
# The goods statuses that fit an order's status (1688.md §4.3, inferred there [U]).
FITS = {
    "waitsellersend": ("refundWaitSellerSend",),
    "waitbuyerreceive": ("refundWaitBuyerReceive", "refundBuyerReceived"),
    "confirm_goods": ("refundBuyerReceived", "aftersaleBuyerReceived", "aftersaleBuyerNotReceived"),
    "success": ("aftersaleBuyerReceived", "aftersaleBuyerNotReceived"),
}
RECEIVED = ("refundBuyerReceived", "aftersaleBuyerReceived")
CLOSED = ("refundsuccess", "refundclose")
REASONS = [
    {"id": 20021, "name": "颜色/款式与描述不符", "needVoucher": True, "noRefundCarriage": False, "tip": ""},
    {"id": 20023, "name": "质量问题", "needVoucher": True, "noRefundCarriage": False, "tip": ""},
    {"id": 20031, "name": "协商一致退款", "needVoucher": False, "noRefundCarriage": True, "tip": ""},
]
VOUCHER_MAX_BYTES = 1024 * 1024
VOUCHER_DOMAIN = "cbu01.alicdn.com"
SELLER = "cn-supplier-fake"


def _failed(code: str, message: str) -> dict[str, Any]:
    return {"result": {"success": False, "code": code, "message": message}}


def _ok(result: dict[str, Any]) -> dict[str, Any]:
    return {"result": {"success": True, "result": result}}


def _now(state: FakeState) -> datetime:
    return datetime.fromtimestamp(state.clock(), UTC)


def alibaba_answer(
    state: FakeState, path: str, params: dict[str, str], files: dict[str, bytes] | None = None
) -> Answer:
    """``path``: the part after ``/openapi/`` (``param2/1/<namespace>/<api>/<appKey>``);
    ``files``: the multipart file parts (never signed)."""
    parts = path.split("/")
    if len(parts) != 5 or parts[:2] != ["param2", "1"]:
        return gw_error("gw.APIUnsupported", "The API is not supported")
    _param2, _version, namespace, api, app_key = parts
    secret = state.alibaba_apps.get(app_key)
    if secret is None:
        return gw_error("gw.AppKeyNotFound", "The app key was not found")
    if namespace != alibaba1688.NAMESPACE or api not in _APIS:
        return gw_error("gw.APIUnsupported", f"The API {api[:60]} is not supported")
    if not params.get("_aop_signature"):
        return gw_error("gw.SignatureMissing", "The signature is missing")
    if alibaba1688.sign(path, params, secret) != params["_aop_signature"]:
        return gw_error("gw.SignatureInvalid", "The signature is invalid")
    if "_aop_timestamp" in params and not timestamp_ok(params["_aop_timestamp"], state.clock()):
        return gw_error("gw.InvalidTimestamp", "The timestamp is out of the allowed window")
    token = params.get("access_token", "")
    if token not in state.alibaba_tokens or token in state.expired:
        return gw_error("gw.InvalidAccessToken", "The access token is invalid or expired", status=401)
    fault = state.take_fault("1688", api)
    if fault is not None:
        return fault
    buyer = state.alibaba_tokens[token]
    with state.lock:
        if api == alibaba1688.UPLOAD_VOUCHER:
            return 200, _upload_voucher(state, buyer, files or {})
        return 200, _APIS[api](state, buyer, params)


# --- reads ---------------------------------------------------------------------------------------


def _order(state: FakeState, buyer: str, order_id: str, entries: list[str] | None = None) -> dict | None:
    """The buyer's 1688 order ``order_id``. For a demo buyer (``make run``), an order the fake
    has never seen is made up at first sight (received, paid in full), and so are its entries."""
    orders = state.alibaba_orders.setdefault(buyer, {})
    if order_id not in orders and buyer in state.demo_buyers and order_id.isdigit():
        base = {"id": int(order_id), "idOfStr": order_id, "status": "confirm_goods", "shippingFee": "0.00"}
        orders[order_id] = {"baseInfo": base, "productItems": [], "demo": True}
    order = orders.get(order_id)
    if order is not None and order.get("demo"):
        known = {str(i["subItemIDString"]) for i in order["productItems"]}
        for entry in entries or []:
            if entry.isdigit() and entry not in known:
                order["productItems"].append(
                    {
                        "subItemID": int(entry),
                        "subItemIDString": entry,
                        "quantity": 99,
                        "itemAmount": "99999.00",
                    }
                )
    return order


def _buyer_view(state: FakeState, buyer: str, params: dict[str, str]) -> dict[str, Any]:
    order = _order(state, buyer, params.get("orderId", ""))
    if order is None:
        return {"success": False, "errorCode": "ORDER_NOT_EXIST", "errorMsg": "The order does not exist"}
    return {"success": "true", "result": order}


def _refund_reasons(state: FakeState, buyer: str, params: dict[str, str]) -> dict[str, Any]:
    if _order(state, buyer, params.get("orderId", "")) is None:
        return _failed("5001", "订单不存在 (order does not exist)")
    return _ok({"reasons": REASONS})


def _refund_list(state: FakeState, buyer: str, params: dict[str, str]) -> dict[str, Any]:
    size = max(1, min(int(params.get("pageSize") or 20), 50))
    page = max(0, int(params.get("currentPageNum") or 0))  # 0-based (1688.md §4.4 [U]; the fake: 0)
    rows = sorted(state.alibaba_refunds.get(buyer, {}).values(), key=lambda r: r["refundId"])
    if params.get("orderId"):
        rows = [r for r in rows if str(r.get("orderId")) == params["orderId"]]
    since = from_china(params["modifyStartTime"]) if params.get("modifyStartTime") else None
    if since is not None:
        rows = [r for r in rows if (from_china(r.get("gmtModified", "")) or since) >= since]
    if params.get("refundStatusSet"):
        wanted = set(json.loads(params["refundStatusSet"]))
        rows = [r for r in rows if r.get("status") in wanted]
    return {
        "success": True,
        "result": {
            "opOrderRefundModels": rows[page * size : (page + 1) * size],
            "totalCount": len(rows),
            "currentPageNum": page,
        },
    }


def _find(state: FakeState, buyer: str, refund_id: str) -> dict[str, Any] | None:
    return state.alibaba_refunds.get(buyer, {}).get(refund_id)


def _made_up_refund(state: FakeState, buyer: str, refund_id: str) -> dict[str, Any] | None:
    """A demo buyer's refund the fake has never seen (the demo data's ``TQ…`` references): made up
    at first sight, waiting for the supplier — and left waiting (the demo data stays as seeded;
    the suppliers answer the requests filed through the fake)."""
    if buyer not in state.demo_buyers or not refund_id.startswith("TQ") or not refund_id[2:].isdigit():
        return None
    now = china_text(_now(state))
    refund = {
        "refundId": refund_id,
        "status": "waitselleragree",
        "orderEntryIdList": [],
        "applyPayment": 0,
        "applyCarriage": 0,
        "refundPayment": 0,
        "refundCarriage": 0,
        "onlyRefund": True,
        "refundGoods": False,
        "rejectReason": "",
        "rejectTimes": 0,
        "sellerReceiveAddress": "",
        "gmtApply": now,
        "gmtModified": now,
        "gmtCompleted": "",
        "madeUp": True,
    }
    state.alibaba_refunds.setdefault(buyer, {})[refund_id] = refund
    return refund


def _refund_detail(state: FakeState, buyer: str, params: dict[str, str]) -> dict[str, Any]:
    refund = _find(state, buyer, params.get("refundId", "")) or _made_up_refund(
        state, buyer, params.get("refundId", "")
    )
    if refund is None:
        return {"errorCode": "500", "errorMessage": "refund data error", "extErrorMessage": ""}
    detail = dict(refund)
    if params.get("needOrderRefundOperation") == "true":
        detail["refundOperationList"] = list(state.alibaba_operations.get(refund["refundId"], []))
    return {"result": {"opOrderRefundModelDetail": detail}}


def _refund_history(state: FakeState, buyer: str, params: dict[str, str]) -> dict[str, Any]:
    refund = _find(state, buyer, params.get("refundId", ""))
    if refund is None:
        return {"errorCode": "500", "errorMessage": "refund data error", "extErrorMessage": ""}
    size = max(1, min(int(params.get("pageSize") or 20), 50))
    page = max(1, int(params.get("pageNo") or 1))
    rows = state.alibaba_operations.get(refund["refundId"], [])
    return {"result": {"opOrderRefundOperationModels": rows[(page - 1) * size : page * size]}}


# --- writes --------------------------------------------------------------------------------------


def _upload_voucher(state: FakeState, buyer: str, files: dict[str, bytes]) -> dict[str, Any]:
    data = files.get("imageData")
    if not data:
        return _failed("4000", "imageData is missing")
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        return _failed("5100", "the voucher must be a JPEG or PNG image [fake]")
    if len(data) >= VOUCHER_MAX_BYTES:
        return _failed("5100", "the voucher must be smaller than 1 MB [fake]")
    digest = hashlib.sha1(data).hexdigest()[:16]  # noqa: S324 (a name, not a signature)
    relative = f"img/ibank/fake/{digest}.jpg"
    state.alibaba_vouchers.setdefault(buyer, set()).add(f"https://{VOUCHER_DOMAIN}/{relative}")
    return _ok({"imageDomain": VOUCHER_DOMAIN, "imageRelativeUrl": relative})


def _fen(yuan: Any) -> int:
    try:
        return int(Decimal(str(yuan or "0")) * 100)
    except (InvalidOperation, ValueError):
        return 0


def _ids(text: str) -> list[str]:
    value = json.loads(text or "[]")
    if not isinstance(value, list):
        raise ValueError("not a list")
    return [str(v) for v in value]


def _create_refund(state: FakeState, buyer: str, params: dict[str, str]) -> dict[str, Any]:
    order_id = params.get("orderId", "")
    try:
        wanted = _ids(params.get("orderEntryIds", ""))
    except (ValueError, TypeError):
        wanted = []
    order = _order(state, buyer, order_id, wanted)
    if order is None:
        others = any(order_id in orders for who, orders in state.alibaba_orders.items() if who != buyer)
        return _failed("5002" if others else "5001", "订单不存在或不属于当前用户")
    base, items = order.get("baseInfo", {}), order.get("productItems", [])
    goods = params.get("goodsStatus", "")
    if goods not in GOODS_STATUSES:
        return _failed("5003", "goodsStatus 不合法")
    if goods not in FITS.get(str(base.get("status")), ()):
        return _failed("5010", "请检查货物状态是否与订单状态一致")
    kind = params.get("disputeRequest", "")
    if kind not in ("refund", "returnRefund"):
        return _failed("5100", "disputeRequest 不合法")
    if kind == "returnRefund" and goods not in RECEIVED:
        return _failed("5010", "未收到货不能申请退货")
    try:
        entries = _ids(params.get("orderEntryIds", ""))
        vouchers = json.loads(params.get("vouchers") or "[]")
        counts = json.loads(params.get("orderEntryCountList") or "[]")
        reason_id = int(params.get("applyReasonId") or 0)
        payment, carriage = int(params.get("applyPayment", "")), int(params.get("applyCarriage", ""))
    except (ValueError, TypeError):
        return _failed("5100", "参数格式错误")
    by_entry = {str(item.get("subItemIDString") or item.get("subItemID")): item for item in items}
    if not entries or any(entry not in by_entry for entry in entries):
        return _failed("5010", "子订单不存在")
    reason = next((r for r in REASONS if r["id"] == reason_id), None)
    if reason is None:
        return _failed("5004", "退款原因不合法")
    mine = set(state.alibaba_vouchers.get(buyer, set()))
    if not isinstance(vouchers, list) or len(vouchers) > 5 or any(v not in mine for v in vouchers):
        return _failed("5100", "凭证不合法 (1–5 images uploaded with uploadRefundVoucher) [fake]")
    if reason["needVoucher"] and not vouchers:
        return _failed("5005", "该退款原因必须上传凭证")
    if not 2 <= len(params.get("description", "")) <= 150:
        return _failed("5012", "退款说明长度必须在2到150个字符之间")
    if reason["noRefundCarriage"] and carriage:
        return _failed("5006", "该退款原因不能退运费")
    if carriage < 0 or carriage > _fen(base.get("shippingFee")):
        return _failed("5011", "退运费金额不能大于运费")
    refunds = state.alibaba_refunds.setdefault(buyer, {})
    touching = [r for r in refunds.values() if set(map(str, r["orderEntryIdList"])) & set(entries)]
    if any(r["status"] not in CLOSED for r in touching):
        return _failed("5010", "该子订单已有进行中的退款，请勿重复提交")
    paid = sum(_fen(by_entry[entry].get("itemAmount")) for entry in entries)
    refunded = sum(r.get("refundPayment", 0) for r in touching if r["status"] == "refundsuccess")
    if payment <= 0 or payment > paid - refunded:
        return _failed("5011", f"退款金额不能大于 {paid - refunded} 分")
    if base.get("status") == "waitsellersend" and payment != paid - refunded:
        return _failed("5011", "卖家未发货时必须全额退款")
    if not isinstance(counts, list) or any(
        not isinstance(c, dict)
        or str(c.get("id")) not in by_entry
        or not 1 <= int(c.get("count") or 0) <= int(by_entry[str(c.get("id"))].get("quantity") or 0)
        for c in counts
    ):
        return _failed("5013", "退货数量不合法")
    state.serial += 1
    refund_id = f"TQ{8000012340000000 + state.serial}"
    now = china_text(_now(state))
    refund = {
        "refundId": refund_id,
        "id": state.serial,
        "orderId": int(order_id),
        "orderEntryIdList": [int(entry) for entry in entries],
        "orderEntryCountMap": {str(c["id"]): int(c["count"]) for c in counts},
        "status": "waitselleragree",
        "applyPayment": payment,
        "applyCarriage": carriage,
        "refundPayment": 0,
        "refundCarriage": 0,
        "canRefundPayment": paid - refunded,
        "applyReasonId": reason_id,
        "applyReason": reason["name"],
        "description": params["description"],
        "vouchers": vouchers,
        "onlyRefund": kind == "refund",
        "refundGoods": kind == "returnRefund",
        "goodsReceived": goods in RECEIVED,
        "goodsStatus": 2 if goods in RECEIVED else 1,
        "disputeType": 2 if goods.startswith("aftersale") else 1,
        "rejectReason": "",
        "rejectReasonId": 0,
        "rejectTimes": 0,
        "sellerReceiveAddress": "",
        "sellerRealName": "",
        "sellerMobile": "",
        "gmtApply": now,
        "gmtModified": now,
        "gmtCompleted": "",
    }
    refunds[refund_id] = refund
    _operation(state, refund, before="", after="waitselleragree", role=1, remark=params["description"])
    for item in items:
        if str(item.get("subItemIDString") or item.get("subItemID")) in entries:
            item["refundStatus"], item["refundId"] = "WAIT_SELLER_AGREE", refund_id
    return _ok({"refundId": refund_id, "isVoucher": "1" if vouchers else "0"})


def _operation(
    state: FakeState, refund: dict[str, Any], *, before: str, after: str, role: int, remark: str = ""
) -> None:
    state.alibaba_operations.setdefault(refund["refundId"], []).insert(
        0,
        {
            "beforeOperateStatus": before,
            "afterOperateStatus": after,
            "operatorRoleId": role,
            "operatorLoginId": SELLER if role == 2 else "buyer",
            "operateRemark": remark,
            "discription": remark,
            "rejectReason": refund.get("rejectReason", "") if after == "waitbuyermodify" else "",
            "gmtCreate": refund["gmtModified"],
        },
    )


DECISIONS = ("agree", "refuse", "receive", "close")


def demo_answers(state: FakeState, *, after: float, rng: Any) -> None:
    """The demo's suppliers (``make run``): a request waiting ``after`` seconds is agreed (three
    in four) or refused; goods asked back are received ``after`` seconds later."""
    now = _now(state).timestamp()
    with state.lock:
        waiting = [
            (r["refundId"], r["status"])
            for buyer, refunds in state.alibaba_refunds.items()
            if buyer in state.demo_buyers
            for r in refunds.values()
            if r["status"] in ("waitselleragree", "waitbuyersend")
            and not r.get("madeUp")
            and now - (from_china(r["gmtModified"]) or _now(state)).timestamp() >= after
        ]
    for refund_id, status in waiting:
        if status == "waitbuyersend":
            supplier_decides(state, refund_id, "receive")
        elif rng.random() < 0.75:
            supplier_decides(state, refund_id, "agree")
        else:
            supplier_decides(state, refund_id, "refuse", reason="商品无质量问题，不同意退款 (demo)")


def supplier_decides(
    state: FakeState,
    refund_id: str,
    decision: str,
    *,
    reason: str = "",
    payment: int | None = None,
    address: str = "浙江省义乌市 福田路 88 号 供应商仓库 (fake)",
) -> dict[str, Any]:
    """The supplier answers refund ``refund_id`` (any buyer's): ``agree`` (a money-only refund is
    paid — ``payment`` fen, default all asked; a return waits for the goods at ``address``),
    ``refuse`` (with ``reason``), ``receive`` (the goods came back: paid), ``close``."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    with state.lock:
        refund = next((r[refund_id] for r in state.alibaba_refunds.values() if refund_id in r), None)
        if refund is None:
            raise KeyError(refund_id)
        before = refund["status"]
        now = china_text(_now(state))
        refund["gmtModified"] = now
        paid = {
            "status": "refundsuccess",
            "refundPayment": refund["applyPayment"] if payment is None else int(payment),
            "refundCarriage": refund["applyCarriage"],
            "gmtCompleted": now,
        }
        if decision == "agree" and refund["refundGoods"]:
            refund.update(status="waitbuyersend", sellerReceiveAddress=address, sellerRealName="王经理")
        elif decision in ("agree", "receive"):
            refund.update(paid)
        elif decision == "refuse":
            refund.update(
                status="waitbuyermodify",
                rejectReason=reason or "商品无质量问题",
                rejectReasonId=1,
                rejectTimes=refund["rejectTimes"] + 1,
            )
        else:
            refund.update(status="refundclose", gmtCompleted=now)
        _operation(state, refund, before=before, after=refund["status"], role=2, remark=reason)
        return dict(refund)


_APIS = {
    alibaba1688.BUYER_VIEW: _buyer_view,
    alibaba1688.REFUND_REASONS: _refund_reasons,
    alibaba1688.REFUND_LIST: _refund_list,
    alibaba1688.REFUND_DETAIL: _refund_detail,
    alibaba1688.REFUND_HISTORY: _refund_history,
    alibaba1688.UPLOAD_VOUCHER: None,  # multipart: answered by _upload_voucher
    alibaba1688.CREATE_REFUND: _create_refund,
}
