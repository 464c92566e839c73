"""What earlier imports did: recognising a row, or a whole file, imported before and untouched since;
and which fields of an order staff have corrected since the last import that set them.

Two mechanisms make a re-import of a 100,000-row file take seconds:

- a row's *fingerprint* (``Order.import_hash``) says the order was last set from these very
  cells and has not changed since: the row is unchanged, without parsing it;
- the import *history* (``OrderImport``) says these very bytes were imported, refused nothing,
  and none of their orders has changed since: the file is unchanged, without reading a row.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Q

from shopops.pgcopy import index_lookups

from ..models import Order, OrderEvent, OrderImport, Refund
from ..resources import COLUMNS
from .result import ImportResult

# --- fingerprints: recognising a row imported before, untouched since ---------------------------
#
# ``Order.import_hash`` holds "<digest of the file row last applied>:<the order's updated_at then,
# in microseconds>". A row of a later file whose cells give the same digest, for an order whose
# ``updated_at`` has not moved (nobody has changed it since: every change through the ORM or the
# workflow moves it) and whose status is still the row's, is *unchanged* by definition: it was
# checked and applied as it is. It is counted without parsing, comparing or writing anything —
# which is what makes a re-import of a 100,000-row file take seconds. Any other row takes the
# full path (parse, compare, refuse or apply), and an applied row gets its new fingerprint.

FINGERPRINT = "_fingerprint"  # key of the row's digest in its parsed values
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def stamp(updated_at: datetime) -> str:
    """The part of a fingerprint that says when it was stamped: ``stamped(d, t) == d + stamp(t)``."""
    return f":{(updated_at - _EPOCH) // _MICROSECOND}"


def stamped(digest: str, updated_at: datetime) -> str:
    return digest + stamp(updated_at)


def rules() -> str:
    """The version of the parsing rules and the platform time zone, as one string.

    Bump the version when a parsing rule changes what the same cells mean: every row then
    takes the full path once (and is stamped anew if it changes anything), and no earlier
    import vouches for a file any more.
    """
    return f"v2\x1e{settings.SHOPOPS_PLATFORM_TZ}\x1e"


def file_rules(default_store_id: int | None) -> str:
    """The rules under which a whole file's bytes mean the same orders: :func:`rules` and the
    store its rows naming none go to (SPEC section 11: the same file may be imported into
    another store). Imports recorded before stores existed match none of these: they vouch for
    nothing any more."""
    return f"{rules()}store:{default_store_id if default_store_id is not None else '-'}\x1e"


# A row as probed: position in its chunk, order id, status, its store's id (None: it has none
# the user may import into), fingerprint text.
Entry = tuple[int, str, str, int | None, str]


# The columns a row's fingerprint hashes: all but the store, which the probe compares itself
# (the order's store against the row's, resolved from its cell or the file's choice). Rows
# fingerprinted before stores existed are thus still recognised.
FINGERPRINTED = tuple(column.name for column in COLUMNS if column.name != "store")


class Fingerprint:
    """The digest of a row's cells (but its store), in the contract's column order whatever the
    file's order.

    An absent optional column and a blank cell mean the same (“leave it as it is”), so both
    hash as an empty string. The platform time zone is part of the digest: the same cells mean
    other instants if it changes. ``\\x1f`` cannot occur in a cell (the decoder refuses control
    characters), so the join is unambiguous. The digest is the MD5 of ``seed + text(cells)`` in
    UTF-8 — a checksum against accidental change, not a security measure — so PostgreSQL can
    compute the same one (``md5(seed || text)``) and compare a whole chunk without Python
    hashing a row.
    """

    def __init__(self, header: list[str], columns: tuple[str, ...] = FINGERPRINTED):
        # ``columns``: what is hashed; the AliExpress pull adds the platform's own status.
        position = {column: i for i, column in enumerate(header)}
        self.blank = len(header)  # the index of the "" appended to each row while joining
        self.pick = operator.itemgetter(*(position.get(name, self.blank) for name in columns))
        self.seed = rules()
        # A file with every column in the contract's order (our export, the template), with the
        # store last or without it: its cells are already in fingerprint order.
        self.in_order = header == list(columns)
        self.in_order_then_store = header == [*columns, "store"]

    def text(self, cells: list[str]) -> str:
        if self.in_order:
            return "\x1f".join(cells)
        if self.in_order_then_store:
            return "\x1f".join(cells[:-1])
        cells.append("")
        try:
            return "\x1f".join(self.pick(cells))
        finally:
            cells.pop()

    def digest(self, text: str) -> str:
        return hashlib.md5((self.seed + text).encode(), usedforsecurity=False).hexdigest()


# --- the import history: recognising a file imported before, untouched since -----------------
#
# Every import that is not a dry run and has no invalid row is recorded (``OrderImport``) with
# the SHA-256 of its bytes. When it refused nothing, every order of the file is, right after
# it, as the file says; importing the very same bytes again under the same rules would then
# find every row unchanged — for as long as none of those orders changes. So the record also
# keeps the file's orders (primary keys, as runs ``[first, last]``) and a checksum of their
# ``updated_at`` (which every change of an order moves, the import's own included). A later
# import of the same bytes whose orders give the same checksum is counted as unchanged without
# reading a row; any other is checked row by row.

MAX_RUNS = 1_000  # a file whose orders are scattered wider is checked row by row when imported again


def _runs(pks: Iterable[int]) -> list[list[int]]:
    """Primary keys as runs of consecutive values, ``[first, last]``, ascending."""
    runs: list[list[int]] = []
    for pk in sorted(set(pks)):
        if runs and pk == runs[-1][1] + 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return runs


def _checksum(runs: list[list[int]]) -> str:
    """``count:sum`` over the orders in ``runs`` of a 64-bit hash of (id, ``updated_at``).

    Only ever compared with a checksum the same database computed: a database upgrade that
    changes its hash functions makes earlier imports vouch for nothing (each row is then
    checked), never for something changed.
    """
    if not runs:
        return ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, index_lookups(cursor):
            cursor.execute(
                "SELECT count(*), "
                "coalesce(sum(timestamp_hash_extended(o.updated_at AT TIME ZONE 'UTC', o.id)), 0) "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS r(first, last) "
                "JOIN orders_order o ON o.id BETWEEN r.first AND r.last",
                [[first for first, _last in runs], [last for _first, last in runs]],
            )
            count, total = cursor.fetchone()
    else:
        count = total = 0
        for start in range(0, len(runs), 100):  # SQLite limits how deep an expression nests
            within = Q()
            for first, last in runs[start : start + 100]:
                within |= Q(pk__range=(first, last))
            for pk, updated in Order.objects.filter(within).values_list("pk", "updated_at"):
                count += 1
                moment = f"{pk}:{(updated - _EPOCH) // _MICROSECOND}".encode()
                total += int.from_bytes(hashlib.blake2b(moment, digest_size=8).digest(), "big", signed=True)
    return f"{count}:{total}"


def same_file(sha256: str, file_rules: str) -> OrderImport | None:
    """The last import that vouches for these bytes under ``file_rules`` (:func:`file_rules`), if
    none of its orders has changed since. Whether the importing user may rely on it (works for
    its store) is the caller's question."""
    found = OrderImport.objects.filter(sha256=sha256, rules=file_rules).exclude(checksum="")
    previous = found.order_by("-id").first()
    if previous is not None and _checksum(previous.order_ranges) == previous.checksum:
        return previous
    return None


def record_import(
    result: ImportResult,
    order_pks: Iterable[int] | None,
    sha256: str,
    by: AbstractBaseUser | None,
    *,
    file_rules: str,
    store_id: int | None,
) -> None:
    """Record an applied import; ``order_pks``: the orders of its rows (``None``: none read);
    ``store_id``: the store of every row (``None`` when they were of several).

    When the import refused nothing and every row's order is known, the record vouches for the
    file: importing the same bytes again is then recognised by ``same_file``.
    """
    runs: list[list[int]] = []
    checksum = ""
    if order_pks is not None and not result.refused_count:
        pks = set(order_pks)  # one a row, new, updated or unchanged: else vouch for nothing
        runs = _runs(pks) if len(pks) == result.rows else []
        checksum = _checksum(runs) if len(runs) <= MAX_RUNS else ""
        if not checksum.startswith(f"{len(pks)}:"):
            runs, checksum = [], ""
    OrderImport.objects.create(
        file_name=result.file_name[:255],
        sha256=sha256,
        rules=file_rules,
        store_id=store_id,
        imported_by=by,
        rows=result.rows,
        new=result.new,
        updated=result.updated,
        unchanged=result.unchanged,
        refused=result.refused_count,
        moves=result.moves,
        order_ranges=runs if checksum else [],
        checksum=checksum,
    )


# --- ownership: the fields staff corrected since the last import -----------------------------
#
# One mechanism, the history: a *correction* is any event (other than an import's) that lists a
# field's old and new value — ``correct_contact`` today, any later correction the same way. An
# import's own event (``imported``) lists the fields it set; a field corrected after the last
# import event that set it belongs to the shop, and the import keeps it.

IMPORT_EVENT = "imported"


def corrected_fields(order_pks: Collection[int], tracked: Collection[str]) -> dict[int, set[str]]:
    """For each order, the ``tracked`` fields a correction set after the last import that set them."""
    if not order_pks:
        return {}
    events = (
        OrderEvent.objects.filter(order_id__in=list(order_pks), data__has_any_keys=list(tracked))
        .order_by("id")
        .values_list("order_id", "transition", "data")
    )
    corrected: dict[int, set[str]] = {}
    for order_pk, transition, data in events:
        fields = {
            name for name, value in data.items() if isinstance(value, dict) and set(value) == {"old", "new"}
        }
        fields &= set(tracked)
        if not fields:
            continue
        if transition == IMPORT_EVENT:
            corrected.get(order_pk, set()).difference_update(fields)
        else:
            corrected.setdefault(order_pk, set()).update(fields)
    return {pk: fields for pk, fields in corrected.items() if fields}


def refunded(order_pks: Collection[int]) -> set[int]:
    """The orders among ``order_pks`` that have a refund (any direction, any state)."""
    if not order_pks:
        return set()
    return set(Refund.objects.filter(order_id__in=list(order_pks)).values_list("order_id", flat=True))
