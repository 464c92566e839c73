"""Shopops settings: one module, driven by environment variables.

Every value that differs between a laptop, CI and production comes from the environment
(see README.md, "Production"). The zero-setup default is SQLite plus an embedded Celery broker
(kombu's filesystem transport) in ``var/`` — no server to install.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from shopops.fonts import default_pdf_fonts

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# Running under pytest: the only case besides DEBUG in which a development secret is acceptable.
TESTING = "pytest" in sys.modules

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "django-insecure-development-only-never-use-in-production-8c2f1e"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=1 for a development machine)."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "shopops.admin_config.ShopopsAdminConfig",  # admin.py modules load with the URLconf
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_fsm",
    "import_export",
    "django_celery_beat",
    "axes",
    "orders",
    "evidence",
]

MIDDLEWARE = [
    # Outermost: static files (WhiteNoise) and pages alike announce no server software.
    "shopops.headers.NoServerHeader",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF (which reads the form first): an upload stops at its size limit, with a 413.
    "shopops.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # 400 with the reason for an admin query parameter no page could use (NUL, out of range).
    "shopops.query_guard.AdminQueryGuard",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shopops.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "shopops.wsgi.application"

# --- database -------------------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share the file: WAL lets readers run beside a
    # writer, IMMEDIATE takes the write lock at BEGIN so two writers queue instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
    # The analytics indexes carry extra columns (INCLUDE) for PostgreSQL's index-only scans;
    # SQLite builds them without those columns, which only costs speed on a development copy.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth and security ------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Object permissions: user.has_perm(perm, obj) answers by the one access policy (orders/policy.py).
    "rules.permissions.ObjectPermissionBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "admin:login"

# A working day: an operator logs in once in the morning and is logged out overnight.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=9 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# HTTPS-only cookies, HSTS and the redirect to HTTPS whenever we are not on a developer's machine.
_HTTPS = env.bool("SHOPOPS_HTTPS", default=not (DEBUG or TESTING))
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
SECURE_SSL_REDIRECT = _HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Strict: every script, style, image and font is one of our own static files (the analytics
# charts included: Chart.js is vendored under static/), nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
if env.bool("SHOPOPS_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz answers load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# django-axes: AXES_FAILURE_LIMIT wrong passwords lock out the user name (from any address), the
# address (whatever user names it tries: 80 guesses over 20 names are stopped at the 5th) and so
# the pair, for AXES_COOLOFF_MINUTES after the last failure (README "Login lockout").
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address", ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The lockout as an admin page, in the user's language, with HTTP 429 (axes' default code).
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

# --- i18n -------------------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True  # stored in UTC; shown in TIME_ZONE
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
# Dates and times as 2026-12-09 16:54 in every UI language (shopops/formats/).
FORMAT_MODULE_PATH = ["shopops.formats"]

# --- static and uploaded files ----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
if DEBUG or TESTING:
    # WhiteNoise serves from the finders here; an empty root only silences its start-up warning.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
if DEBUG or TESTING:
    # Tools for developers and the tests only (axe-core, which the browser tests run on each
    # page): served from our own origin so the CSP stays on, never collected for production.
    STATICFILES_DIRS.append(BASE_DIR / "devstatic")
STORAGES = {
    # Evidence files are private: never served under a public URL, only through a staff view.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.path("SHOPOPS_MEDIA_ROOT", default=VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = STORAGES["default"]["OPTIONS"]["location"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Each uploaded file is counted as it arrives and stopped at its page's limit (shopops/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "shopops.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000  # bulk actions on a long list page
# All the files of one request together (shopops/uploads.py): evidence screenshots sent at once.
# An import's page takes one file, within SHOPOPS_IMPORT_MAX_MB.
SHOPOPS_UPLOAD_REQUEST_MAX_MB = env.float("SHOPOPS_UPLOAD_REQUEST_MAX_MB", default=25)

# --- mail and SMS -----------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Shopops <noreply@shopops.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SMS_URL = env.str("SMS_URL", default="console:")
SMS_TOKEN = env.str("SMS_TOKEN", default="")
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=10.0)
# SMTP must give up well within a notification's claim (below), or a slow server could let a
# second worker claim the same message while the first is still sending it.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Outbox delivery (orders.workflow.outbox, orders.delivery): how long a worker holds a message
# it is sending before another may take it over (longer than any send can take), how many
# attempts before it is marked failed, and the first retry delay (doubling each time, capped
# by SHOPOPS_MAX_COUNTDOWN).
SHOPOPS_NOTIFICATION_CLAIM_SECONDS = env.float("SHOPOPS_NOTIFICATION_CLAIM_SECONDS", default=300)
SHOPOPS_NOTIFICATION_MAX_ATTEMPTS = env.int("SHOPOPS_NOTIFICATION_MAX_ATTEMPTS", default=5)
SHOPOPS_NOTIFICATION_RETRY_SECONDS = env.float("SHOPOPS_NOTIFICATION_RETRY_SECONDS", default=60)
# Delivery in batches: how many notifications one broker message (and one claim, one SMTP
# session) carries. The whole batch must be sent within the claim above.
SHOPOPS_NOTIFICATION_BATCH = env.int("SHOPOPS_NOTIFICATION_BATCH", default=100)
# Threads that send one batch side by side (each its own SMTP connection): the waits overlap.
SHOPOPS_DELIVERY_THREADS = env.int("SHOPOPS_DELIVERY_THREADS", default=4)

# --- Redis, cache, Celery ---------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

BROKER_DIR = VAR_DIR / "broker"
# The longest countdown/ETA any of our tasks may use; the Redis visibility timeout is well above
# it, so a delayed message is never handed to a second worker while the first still holds it.
SHOPOPS_MAX_COUNTDOWN = 60 * 60
CELERY_BROKER_VISIBILITY_TIMEOUT = 4 * SHOPOPS_MAX_COUNTDOWN

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
        # Fail fast when Redis is down: the caller (a close in the admin) must not hang.
        "socket_connect_timeout": 2,
        # Also bounds a publish to a Redis that accepts connections but never answers: a close
        # waits at most this long once (then the outbox leaves messages to the relay for a while).
        # Above the 1 s BRPOP timeout that consumers wait on.
        "socket_timeout": 2,
        "max_retries": 1,
    }
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
else:
    # Embedded broker: kombu's filesystem transport, messages are files in var/broker/, each
    # written whole before a worker can take it (shopops/broker.py, whose scheme this is,
    # registered with kombu when the Celery app loads). A real worker and beat run against it
    # with no server; see README.md.
    CELERY_BROKER_URL = "shopops-filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{BROKER_DIR / 'results'}"
    for _sub in ("queue", "control", "results"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not block a web request for long when the broker is down.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
# Workers keep their database connection between tasks (a new PostgreSQL session per task cost
# more than the task): Celery's Django fixup closes it only every this many tasks, and
# shopops.celery closes it around a task as Django does around a request (CONN_MAX_AGE, errors).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic schedules are rows of django-celery-beat (created by a migration, edited in the
# admin by superusers only); nothing is declared here so that an edit is never overwritten at
# start-up.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Shopops workflow: delays and deadlines ---------------------------------------------------

SHOPOPS_PLATFORM_TZ = env.str("SHOPOPS_PLATFORM_TZ", default="Asia/Shanghai")
SHOPOPS_PAYMENT_REMINDER_HOURS = env.float("SHOPOPS_PAYMENT_REMINDER_HOURS", default=24)
SHOPOPS_PAYMENT_TIMEOUT_HOURS = env.float("SHOPOPS_PAYMENT_TIMEOUT_HOURS", default=72)
SHOPOPS_SUPPLIER_RESPOND_DAYS = env.float("SHOPOPS_SUPPLIER_RESPOND_DAYS", default=3)
SHOPOPS_SUPPLIER_CHASE_HOURS = env.float("SHOPOPS_SUPPLIER_CHASE_HOURS", default=24)
SHOPOPS_REFUND_ARRIVAL_DAYS = env.float("SHOPOPS_REFUND_ARRIVAL_DAYS", default=7)
SHOPOPS_REFUND_EXPECTED_DAYS = env.str("SHOPOPS_REFUND_EXPECTED_DAYS", default="3-20")
# Where buyers send returned goods: filled into the "propose a return" ready text (orders.buyer_messages).
SHOPOPS_RETURN_ADDRESS = env.str("SHOPOPS_RETURN_ADDRESS", default="")
# The name buyer emails are sent under ("Name <DEFAULT_FROM_EMAIL's address>"); blank: DEFAULT_FROM_EMAIL
# as it is. Each of these per-store settings is the default of the store's own field (orders.models.Store).
SHOPOPS_MESSAGE_SENDER = env.str("SHOPOPS_MESSAGE_SENDER", default="")
SHOPOPS_WAITING_ON_BUYER_HOURS = env.float("SHOPOPS_WAITING_ON_BUYER_HOURS", default=48)
SHOPOPS_TIMEOUT_SOON_HOURS = env.float("SHOPOPS_TIMEOUT_SOON_HOURS", default=12)
SHOPOPS_FEEDBACK_THRESHOLD = env.int("SHOPOPS_FEEDBACK_THRESHOLD", default=2)
SHOPOPS_ATTACHMENT_MAX_BYTES = env.int("SHOPOPS_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
SHOPOPS_IMPORT_MAX_MB = env.float("SHOPOPS_IMPORT_MAX_MB", default=50)
# Every evidence file that starts like an image is decoded in full on upload and before it goes
# into a pack (evidence/images.py): at most this many pixels (read from the header, before
# decoding: 50 MP is a 50-megapixel phone photo), and at most this much memory decoded (a JPEG
# over it is decoded at 1/2, 1/4 or 1/8 scale; a PNG or WebP over it is not opened). A file over
# either is kept as evidence, marked as not a readable image, and left out of packs.
SHOPOPS_IMAGE_MAX_PIXELS = env.int("SHOPOPS_IMAGE_MAX_PIXELS", default=50_000_000)
SHOPOPS_IMAGE_MAX_MEMORY_MB = env.float("SHOPOPS_IMAGE_MAX_MEMORY_MB", default=256)
SHOPOPS_SUPERVISOR_EMAILS = env.list("SHOPOPS_SUPERVISOR_EMAILS", default=[])

# --- team work: hand-offs to staff, response times (orders/workflow/handoffs.py, docs/team.md) ----
# Where the links in staff emails and chat messages point: the back office's address as staff
# open it (no trailing slash). Blank: the links are paths only (/admin/orders/order/42/change/).
SHOPOPS_SITE_URL = env.str(
    "SHOPOPS_SITE_URL",
    default=f"http://{env.str('SHOPOPS_ADDRESS', default='127.0.0.1:8000')}" if DEBUG else "",
).rstrip("/")
# The team chat robot (SPEC §11): a JSON POST {"msgtype": "text", "text": {"content": "…"}} for
# each hand-off, as WeCom and DingTalk group robots take it; signed the DingTalk way (timestamp and
# sign query parameters) when the secret is set. Blank URL: no chat messages.
SHOPOPS_STAFF_WEBHOOK_URL = env.str("SHOPOPS_STAFF_WEBHOOK_URL", default="")
SHOPOPS_STAFF_WEBHOOK_SECRET = env.str("SHOPOPS_STAFF_WEBHOOK_SECRET", default="")
SHOPOPS_STAFF_WEBHOOK_TIMEOUT = env.float("SHOPOPS_STAFF_WEBHOOK_TIMEOUT", default=10)
# The language of the chat messages (one room for the whole team): en or zh-hans.
SHOPOPS_STAFF_WEBHOOK_LANGUAGE = env.str("SHOPOPS_STAFF_WEBHOOK_LANGUAGE", default=LANGUAGE_CODE)
# A buyer's message unanswered for longer than this is overdue (the team page, analytics).
SHOPOPS_RESPONSE_OVERDUE_HOURS = env.float("SHOPOPS_RESPONSE_OVERDUE_HOURS", default=24)
# The sane window of every date an input names (shopops/inputs.py): not before this day, and a
# past event not more than this many seconds ahead of the server clock.
SHOPOPS_EARLIEST_DATE = env.str("SHOPOPS_EARLIEST_DATE", default="2000-01-01")
SHOPOPS_CLOCK_SKEW_SECONDS = env.float("SHOPOPS_CLOCK_SKEW_SECONDS", default=300)

# --- evidence packs for the platforms (orders/packs/, docs/evidence-pack.md) --------------------
# Per target: how many files the platform takes (summary.pdf counts as one, and comes first), the
# largest file it takes, and the types it takes (jpeg, png, pdf). Images are converted and scaled
# down to fit; what cannot be made to fit is listed in the manifest as left out, with why.
SHOPOPS_EVIDENCE_PACK_ALIEXPRESS_MAX_FILES = env.int("SHOPOPS_EVIDENCE_PACK_ALIEXPRESS_MAX_FILES", default=10)
SHOPOPS_EVIDENCE_PACK_ALIEXPRESS_MAX_MB = env.float("SHOPOPS_EVIDENCE_PACK_ALIEXPRESS_MAX_MB", default=2)
SHOPOPS_EVIDENCE_PACK_ALIEXPRESS_TYPES = env.list(
    "SHOPOPS_EVIDENCE_PACK_ALIEXPRESS_TYPES", default=["jpeg", "png", "pdf"]
)
SHOPOPS_EVIDENCE_PACK_1688_MAX_FILES = env.int("SHOPOPS_EVIDENCE_PACK_1688_MAX_FILES", default=5)
SHOPOPS_EVIDENCE_PACK_1688_MAX_MB = env.float("SHOPOPS_EVIDENCE_PACK_1688_MAX_MB", default=5)
SHOPOPS_EVIDENCE_PACK_1688_TYPES = env.list("SHOPOPS_EVIDENCE_PACK_1688_TYPES", default=["jpeg", "png"])
# A pack whose chosen files add up to more than this is built by a Celery worker, not in the request.
SHOPOPS_EVIDENCE_PACK_INLINE_MAX_MB = env.float("SHOPOPS_EVIDENCE_PACK_INLINE_MAX_MB", default=20)
# Packs built in the background are kept in the default storage under this folder (beside the
# evidence files, so web and workers share it) for this long, then deleted by the next build.
SHOPOPS_EVIDENCE_PACK_DIR = env.str("SHOPOPS_EVIDENCE_PACK_DIR", default="evidence-packs")
SHOPOPS_EVIDENCE_PACK_KEEP_HOURS = env.float("SHOPOPS_EVIDENCE_PACK_KEEP_HOURS", default=24)
# TrueType fonts of the PDF summary, embedded in it: the first for Latin, Cyrillic, Greek, Arabic
# and Hebrew, the next ones for what it lacks (Chinese, Japanese, Korean). By default Debian's
# DejaVu Sans (fonts-dejavu-core) when installed, then WenQuanYi Micro Hei from the pinned wheel
# that requirements.txt installs: a fresh machine builds packs with no system font (shopops/fonts.py).
SHOPOPS_PDF_FONTS = env.list("SHOPOPS_PDF_FONTS", default=default_pdf_fonts())

# Loss ledger (docs/loss-ledger.md): amounts converted to this currency at the ECB's rate of the
# day; the periodic job fetches the ECB's daily reference rates from SHOPOPS_FX_URL.
SHOPOPS_REPORTING_CURRENCY = env.str("SHOPOPS_REPORTING_CURRENCY", default="USD").upper()
SHOPOPS_FX_URL = env.str(
    "SHOPOPS_FX_URL", default="https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
)
# Bounds of a rates file (orders/workflow/rates.py, docs/security.md): the text it may unpack to
# (the ECB's whole history is 2 MB), how many times its packed size a ZIP may unpack to (the
# history packs 3:1), how many rates it may hold (the history: about 200,000), and how much the
# daily fetch reads, packed and unpacked.
SHOPOPS_FX_MAX_UNPACKED_MB = env.float("SHOPOPS_FX_MAX_UNPACKED_MB", default=16)
SHOPOPS_FX_MAX_RATIO = env.float("SHOPOPS_FX_MAX_RATIO", default=50)
SHOPOPS_FX_MAX_RATES = env.int("SHOPOPS_FX_MAX_RATES", default=1_000_000)
SHOPOPS_FX_FETCH_MAX_MB = env.float("SHOPOPS_FX_FETCH_MAX_MB", default=5)

# --- the platforms: AliExpress (we sell) and 1688 (we buy) — docs/platforms.md -------------------
# Each store's app keys, app secrets and access tokens are stored encrypted with a key derived from
# SHOPOPS_SECRETS_KEY (at least 32 characters; shopops/secrets.py). Changing it makes them
# unreadable: connect the stores again. A development machine and the tests use a fixed key.
SHOPOPS_SECRETS_KEY = env.str("SHOPOPS_SECRETS_KEY", default="")
if not SHOPOPS_SECRETS_KEY and (DEBUG or TESTING):
    SHOPOPS_SECRETS_KEY = "development-only-secrets-key-never-use-in-production-5d1c"
if SHOPOPS_SECRETS_KEY and len(SHOPOPS_SECRETS_KEY) < 32:
    raise ImproperlyConfigured("SHOPOPS_SECRETS_KEY must be at least 32 characters long.")
# The full URL of AliExpress's /sync endpoint, and the prefix 1688's
# param2/1/com.alibaba.trade/<api>/<appKey> is appended to (SPEC section 11).
SHOPOPS_AE_GATEWAY = env.str("SHOPOPS_AE_GATEWAY", default="https://api-sg.aliexpress.com/sync")
SHOPOPS_1688_GATEWAY = env.str("SHOPOPS_1688_GATEWAY", default="https://gw.open.1688.com/openapi/")
# One request: seconds to connect and to read; retries (network errors, HTTP 5xx, throttling) with
# a back-off doubling from SHOPOPS_PLATFORM_BACKOFF_SECONDS; the largest answer read.
SHOPOPS_PLATFORM_TIMEOUT_SECONDS = env.float("SHOPOPS_PLATFORM_TIMEOUT_SECONDS", default=20)
SHOPOPS_PLATFORM_RETRIES = env.int("SHOPOPS_PLATFORM_RETRIES", default=3)
SHOPOPS_PLATFORM_BACKOFF_SECONDS = env.float("SHOPOPS_PLATFORM_BACKOFF_SECONDS", default=1)
SHOPOPS_PLATFORM_MAX_RESPONSE_MB = env.float("SHOPOPS_PLATFORM_MAX_RESPONSE_MB", default=20)
# The order pull (orders/platforms/sync.py): how far back a store's first pass reads, how much of
# the last pass each pass reads again (the platform's clocks and late writes), rows per page, and
# how long one pass of a store holds it before another may start one.
SHOPOPS_SYNC_FIRST_DAYS = env.float("SHOPOPS_SYNC_FIRST_DAYS", default=30)
SHOPOPS_SYNC_OVERLAP_MINUTES = env.float("SHOPOPS_SYNC_OVERLAP_MINUTES", default=10)
SHOPOPS_SYNC_PAGE_SIZE = env.int("SHOPOPS_SYNC_PAGE_SIZE", default=50)
SHOPOPS_SYNC_LEASE_MINUTES = env.float("SHOPOPS_SYNC_LEASE_MINUTES", default=15)
# A 1688 refund request Shopops files (orders/workflow/refund_filing.py): the delay before trying
# again after a failure a later try may fix (doubling each time), and the tries before it is shown
# as failed on the order page (with a button to try again).
SHOPOPS_1688_REFUND_RETRY_SECONDS = env.float("SHOPOPS_1688_REFUND_RETRY_SECONDS", default=60)
SHOPOPS_1688_REFUND_ATTEMPTS = env.int("SHOPOPS_1688_REFUND_ATTEMPTS", default=8)

# --- logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs each request's URL at INFO: the platforms' gateways are never logged (docs/platforms.md).
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
