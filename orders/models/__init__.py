"""Orders, refunds, stock, messages, feedback and history: one module per family.

Models hold fields, choices and constraints, and their django-fsm transitions only declare the
rules (source, target, permission) and set fields in memory. The whole operation — locking,
evidence checks, history, refunds, stock and side effects — lives in ``orders.workflow``.
Everything is importable from ``orders.models``, as Django and the rest of the code expect.
"""

from .buyer_message import BuyerMessageTemplate as BuyerMessageTemplate
from .buyer_message import BuyerMessageTemplateVersion as BuyerMessageTemplateVersion
from .choices import BOUGHT_STATUSES as BOUGHT_STATUSES
from .choices import FORWARD_PATH as FORWARD_PATH
from .choices import GOODS_BACK_REASONS as GOODS_BACK_REASONS
from .choices import MONEY as MONEY
from .choices import PURCHASE_MOVES as PURCHASE_MOVES
from .choices import REFUND_KIND_1688 as REFUND_KIND_1688
from .choices import REFUND_RELEASED_STATUSES as REFUND_RELEASED_STATUSES
from .choices import CloseReason as CloseReason
from .choices import CloseStage as CloseStage
from .choices import DisputeWith as DisputeWith
from .choices import FollowupStatus as FollowupStatus
from .choices import HandoffDelivery as HandoffDelivery
from .choices import HandoffKind as HandoffKind
from .choices import MovementReason as MovementReason
from .choices import NotificationChannel as NotificationChannel
from .choices import NotificationStatus as NotificationStatus
from .choices import NotificationTemplate as NotificationTemplate
from .choices import Outcome as Outcome
from .choices import PurchaseOnClose as PurchaseOnClose
from .choices import PurchaseStatus as PurchaseStatus
from .choices import RefundDirection as RefundDirection
from .choices import RefundStatus as RefundStatus
from .choices import ReturnCondition as ReturnCondition
from .choices import Status as Status
from .choices import SupplierRefundKind as SupplierRefundKind
from .choices import choice_label as choice_label
from .choices import purchase_status_for as purchase_status_for
from .feedback import Feedback as Feedback
from .feedback import FeedbackEvent as FeedbackEvent
from .fx import ExchangeRate as ExchangeRate
from .fx import ExchangeRateChange as ExchangeRateChange
from .imports import OrderImport as OrderImport
from .ledger import OrderLedger as OrderLedger
from .notification import Notification as Notification
from .order import Order as Order
from .order import OrderEvent as OrderEvent
from .order import Sku as Sku
from .platform import FilingStatus as FilingStatus
from .platform import Platform as Platform
from .platform import PlatformAction as PlatformAction
from .platform import PlatformDispute as PlatformDispute
from .platform import PlatformRefund as PlatformRefund
from .platform import StoreConnection as StoreConnection
from .platform import SyncState as SyncState
from .purchase import SupplierOrder as SupplierOrder
from .refund import Refund as Refund
from .stock import StockMovement as StockMovement
from .store import Store as Store
from .team import StaffPreference as StaffPreference
