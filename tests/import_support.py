"""Rows and files for the order import's tests: a valid row of SPEC section 6 with what a test
changes, and rows written as the CSV file an operator uploads."""

import csv
import io


def order_row(**overrides: str) -> dict[str, str]:
    row = {
        "order_id": "8199000000000001",
        "status": "awaiting_payment",
        "placed_at": "2026-11-20 10:00:00",
        "paid_at": "",
        "shipped_at": "",
        "buyer_name": "Maria Garcia",
        "buyer_email": "maria@example.com",
        "buyer_phone": "+34690810033",
        "buyer_country": "ES",
        "buyer_language": "es",
        "sku": "SKU-PHC-001",
        "product_title": "硅胶手机壳 Silicone phone case",
        "quantity": "1",
        "unit_price": "2.35",
        "total_amount": "2.35",
        "currency": "USD",
        "supplier_name": "义乌市晨光饰品厂",
        "supplier_contact": "chenguang@example.cn",
        "supplier_order_id": "3000000000009001",
        "supplier_amount": "6.00",
        "tracking_number": "",
        "carrier": "",
        "notes": "",
    }
    row.update(overrides)
    return row


def csv_file(rows: list[dict[str, str]], encoding: str = "utf-8") -> io.BytesIO:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    data = io.BytesIO(buffer.getvalue().encode(encoding))
    data.name = "test.csv"
    return data
