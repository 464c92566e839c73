"""The demo's world: its SKUs, suppliers, buyers and carriers, what buyers write, and a tiny PNG.

Shared by the live demo orders (``orders.demo.orders``) and the close history
(``orders.demo.history``). Plain data: nothing here touches the database.
"""

from __future__ import annotations

import struct
import zlib
from decimal import Decimal

# Demo orders use their own range of AliExpress-like ids, so a rerun can recognise them; the
# close history has its own.
DEMO_PREFIX = "8199"
HISTORY_PREFIX = "8198"

# The SKUs of the sample files (tests/data/*.csv): code, title, unit price (USD), unit cost (CNY).
SKUS = [
    ("SKU-PHC-001", "硅胶手机壳 Silicone phone case", Decimal("2.35"), Decimal("6.00")),
    ("SKU-BAG-310", "帆布包 Canvas tote bag", Decimal("5.40"), Decimal("17.50")),
    ("SKU-KIT-042", "厨房秤 Kitchen scale", Decimal("7.80"), Decimal("26.00")),
    ("SKU-LED-014", "LED 灯带 5m LED strip", Decimal("8.90"), Decimal("28.00")),
    ("SKU-EAR-077", "蓝牙耳机 Bluetooth earbuds", Decimal("12.99"), Decimal("45.00")),
    ("SKU-WAT-203", "智能手表 Smart watch", Decimal("21.50"), Decimal("78.00")),
]
SUPPLIERS = [
    ("义乌市晨光饰品厂", "chenguang@example.cn"),
    ("深圳市华强电子有限公司", "sales@huaqiang.example.cn"),
    ("杭州家居用品有限公司", ""),
    ("广州白云皮具商行", "baiyun-bags@example.cn"),
    ("东莞市鑫源五金制品厂", "xinyuan-hw@example.cn"),
]
# name, country, language, phone (or "" when the platform gave none)
BUYERS = [
    ("Olga Ivanova", "RU", "ru", "+79400917145"),
    ("Dmitry Sokolov", "RU", "ru", "+79161234567"),
    ("Lucas Silva", "BR", "pt", "+5511921178502"),
    ("Ana Souza", "BR", "pt", ""),
    ("Maria Garcia", "ES", "es", "+34690810033"),
    ("Javier López", "ES", "es", "+34612345678"),
    ("Sofía Martínez", "MX", "es", "+525512345678"),
    ("Emily Brown", "GB", "en", "+447455397179"),
    ("James Wilson", "US", "en", ""),
    ("Chloé Dubois", "FR", "fr", "+33612345678"),
    ("Lukas Müller", "DE", "de", "+4915112345678"),
    ("Mehmet Yilmaz", "TR", "tr", "+905328779137"),
    ("Kim Min-jun", "KR", "ko", "+821012345678"),
    ("陈伟", "SG", "zh-hans", "+6591234567"),
    ("林美玲", "MY", "zh-hans", "+60123456789"),
    ("Anna Kowalska", "PL", "pl", "+48512345678"),
    ("Noa Cohen", "IL", "he", ""),
    ("Pedro Santos", "PT", "pt", "+351912345678"),
]
CARRIERS = ["Cainiao", "4PX", "YunExpress", "China Post", "J&T Express"]

BUYER_CANCEL_ASK = {
    "en": "Sorry, this item is out of stock. May we cancel the order and refund you in full?",
    "es": "Lo sentimos, el artículo está agotado. ¿Podemos cancelar el pedido y reembolsarle?",
    "pt": "Desculpe, o item está esgotado. Podemos cancelar o pedido e reembolsar?",
    "ru": "Извините, товара нет в наличии. Можем ли мы отменить заказ и вернуть деньги?",
    "zh-hans": "抱歉，该商品缺货。我们可以取消订单并全额退款吗？",
}
BUYER_YES = {
    "en": "OK, please cancel and refund.",
    "es": "De acuerdo, cancele y reembolse por favor.",
    "pt": "Tudo bem, pode cancelar e reembolsar.",
    "ru": "Хорошо, отменяйте и верните деньги.",
    "zh-hans": "好的，请取消并退款。",
}
BUYER_NO = {
    "en": "No, I will wait for the item.",
    "es": "No, esperaré el artículo.",
    "pt": "Não, vou esperar pelo produto.",
    "ru": "Нет, я подожду товар.",
    "zh-hans": "不用取消，我愿意等。",
}


def png_bytes(width: int = 4, height: int = 3, colour: tuple[int, int, int] = (220, 40, 40)) -> bytes:
    """A tiny but valid PNG (a stand-in for a chat screenshot)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(colour) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
