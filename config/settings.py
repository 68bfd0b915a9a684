"""Marquee settings: one module, driven by the environment (see CONTRACTS.md).

Defaults give the embedded set-up: SQLite at the project root, tasks in-process, a
local-memory cache. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-marquee-development-only")
else:
    # Production secrets have no default: a missing one must stop the process.
    SECRET_KEY = env("SECRET_KEY", default=None)
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is false.")

if DEBUG:
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
else:
    # In production the host names are part of the deployment, never guessed: a missing list stops
    # the process instead of silently answering for localhost only (or for every host).
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is false (comma-separated host names).")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "accounts",
    "catalog",
    "recommendations",
    "privacy",
    "insights",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Operations (ops.middleware): a database outage is a 503, not a 500, whichever middleware or
    # view hits it, so these wrap everything that may touch the database; the probes are
    # answered before the session stack. After SecurityMiddleware only: its headers go on a 503 too.
    "ops.middleware.DatabaseUnavailableMiddleware",
    "ops.middleware.RequestMetricsMiddleware",
    "ops.middleware.ProbeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.ActiveProfileMiddleware",
    # Axes last: it must see the result of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.active_profile",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite, the embedded default, under concurrent writers (tests/test_sqlite_concurrency.py):
    # - WAL: readers never block the writer, nor the writer them.
    # - timeout (the busy timeout, seconds): a writer waits for the write lock instead of failing.
    # - IMMEDIATE: every `atomic` block takes the write lock at BEGIN. A deferred transaction
    #   reads first and upgrades later, and SQLite fails an upgrade that would deadlock at once,
    #   whatever the timeout ("database is locked": 500s under a burst of writes). It is also
    #   what keeps the "count, then insert" rules (5 profiles, one export a day) on SQLite, where
    #   select_for_update() is a no-op: two such transactions can no longer interleave.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
if env("TEST_DB_NAME", default=""):
    # Lets several test runs share one PostgreSQL server without clobbering each other.
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "profile-picker"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Private files (exports, model artifacts) live outside anything served publicly.
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", default=str(BASE_DIR / "var")))
MODEL_ROOT = Path(env("MODEL_ROOT", default=str(PRIVATE_ROOT / "models")))
EXPORT_ROOT = Path(env("EXPORT_ROOT", default=str(PRIVATE_ROOT / "exports")))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Mail ------------------------------------------------------------------------------------
# Password resets and deletion receipts are promises made to people: in production they must
# leave the building, so EMAIL_URL (smtp://user:pass@host:587, smtps://... for TLS) is required.
# The console backend, which only prints, is for DEBUG=true (`make demo`, local runs).
if env("EMAIL_URL", default=""):
    # EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER/PASSWORD, EMAIL_USE_TLS/SSL.
    globals().update(env.email_url("EMAIL_URL"))
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    raise ImproperlyConfigured("EMAIL_URL is required when DEBUG is false (smtp://user:password@host:587).")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Password-reset mail leaves from a thread, so the SMTP round trip does not tell a requester
# whether the address has an account (accounts.forms.PasswordResetRequestForm).
EMAIL_SEND_IN_BACKGROUND = env.bool("EMAIL_SEND_IN_BACKGROUND", default=not DEBUG)
# Password-reset emails: at most this many per address (existing or not) and requests per client
# network (api.throttles), so the form cannot fill someone's mailbox.
PASSWORD_RESET_RATE_PER_ADDRESS = env("PASSWORD_RESET_RATE_PER_ADDRESS", default="3/hour")
PASSWORD_RESET_RATE_PER_NETWORK = env("PASSWORD_RESET_RATE_PER_NETWORK", default="20/hour")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Marquee <no-reply@marquee.local>")

# --- Redis: Celery broker and cache -------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down = cache misses, not errors (common/cache.py); the timeouts bound how
            # long one request waits on an unreachable Redis before the breaker opens.
            "BACKEND": "common.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="marquee"),
            "OPTIONS": {
                "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
                "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=1.0),
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    if DEBUG:
        CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    else:
        # Throttle counts (API, sign-up, password reset) live in the cache; a local-memory cache
        # would give each gunicorn worker its own count, multiplying every limit by the number
        # of workers. Without Redis, production shares them through the database instead
        # (`manage.py createcachetable`, run with the migrations by `make migrate` and the Procfile).
        CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "marquee_cache",
                "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="marquee"),
            }
        }
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    # No broker: tasks run in-process, right where they are queued.
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

# A web request hands a task to the broker once (ops.outbox: retry=False); this bounds how long
# that one attempt may take when Redis does not answer...
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5) * 4
# ...and kombu's own reconnect loop for a publish: one quick second try, not 2 s sleeps (a
# worker's consumer passes its own retry settings and is not affected).
# visibility_timeout: Redis hands an unacknowledged message to another worker after this, so it
# must outlast the longest task (training's hard limit is 65 minutes); a dead worker's task is
# handed over sooner by the outbox sweeper anyway.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "visibility_timeout": 2 * 60 * 60,
    # A Redis that accepts the connection and never answers (paused, or a pooled connection to
    # a host that now drops packets) must fail the hand-over too, not hang the request until
    # gunicorn kills it. A worker's BRPOP waits 1 s per poll, well inside these.
    "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.5) * 2,
    "socket_timeout": 3,
}
# Nothing reads task results (the outbox row and each job's own row say how it went), so no
# task writes one to Redis.
CELERY_TASK_IGNORE_RESULT = True
# JSON only: nothing pickled crosses the broker.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic tasks, keyed by a readable name; each app's entry sits in its own block below.
CELERY_BEAT_SCHEDULE: dict = {}
# Queues: training (minutes of CPU, one at a time) has its own queue, consumed only by the
# Procfile's `trainer` (niced, concurrency 1) so neither a web host nor the worker that runs
# exports and erasures ever trains. Everything else stays on the default queue `celery`.
# The legacy name only re-queues under the new one, but it is training traffic all the same.
# Without REDIS_URL tasks run eagerly and routing does not apply.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "recommendations.tasks.model_train": {"queue": "training"},
    "recommendations.tasks.train_model": {"queue": "training"},
}

# --- REST framework ----------------------------------------------------------------------
API_THROTTLE = env("API_THROTTLE", default="on").lower() != "off"
# Reverse proxies in front of the app that append to X-Forwarded-For (0: clients connect directly).
# Throttling and the login lockout count per client IP, so they must read the real one.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in, JSON out: no browsable API (HTML with inline script) and no form parsing.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a depth, surrogate and size limit (a 400/413, never a 500).
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.AnonThrottle", "api.throttles.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_RATE_ANON", default="120/min"),
        "user": env("API_RATE_USER", default="1200/min"),
        # Stricter on the doors that create accounts and trade passwords for tokens.
        "signup": env("API_RATE_SIGNUP", default="10/hour"),
        "token": env("API_RATE_TOKEN", default="20/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Marquee API",
    "DESCRIPTION": (
        "Browse, rate and get recommendations from the Marquee catalog.\n\n"
        "**Auth**: `POST /api/v1/auth/token/` with `username` and `password`, then send "
        "`Authorization: Token <token>`. The browser session works too (with the CSRF header).\n\n"
        '**Errors** are JSON: `{"detail": "..."}`, plus `errors` (per field) on 400. '
        "401 no credentials, 403 not allowed, 404 not found *or not yours*, 409 conflict, "
        "429 throttled or locked out (see `Retry-After`).\n\n"
        "**Lists** are paginated: `{count, next, previous, results}`, `?page=N` (and `?page_size=` up to 100).\n\n"
        "**Visibility**: every title answer is limited to what a profile may see (published, within its "
        "maturity limit, never unrated for kids). Catalog endpoints take `?profile=<id>` (one of your "
        "profiles); without it they use your session's active profile, and otherwise the strictest rule "
        "(family titles only). Endpoints under `/profiles/{pid}/` always use that profile."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Read-only fields (ids, ownership) are not part of request bodies: clients cannot send them.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RatingValueEnum": "catalog.models.RatingValue",
        "TitleKindEnum": "catalog.models.TitleKind",
        "MaturityLevelEnum": "accounts.maturity.MaturityLevel",
        "MaturityRatingEnum": "accounts.maturity.MaturityRating",
    },
    # Swagger UI from the installed sidecar package: no CDN, works offline, fits the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Login protection (django-axes) --------------------------------------------------------
# Every authenticate() call that passes the request counts (the login form, POST
# /api/v1/auth/token/, and every password re-check through common.sudo.password_matches).
# Two separate, sized limits, so that failures cannot lock out someone else:
# - AXES_FAILURE_LIMIT wrong passwords for one username from one network lock that username
#   from that network only: its owner still signs in from home while someone guesses elsewhere;
# - AXES_NETWORK_FAILURE_LIMIT failures from one network, whatever the usernames, lock the
#   network (spraying many usernames), high enough that a few mistyped passwords by the people
#   behind one NAT or office /24 do not lock them all out.
# Axes has one global limit; api.lockout.SizedLimitsHandler applies each group's own.
AXES_HANDLER = "api.lockout.SizedLimitsHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_NETWORK_FAILURE_LIMIT = env.int("AXES_NETWORK_FAILURE_LIMIT", default=50)
AXES_COOLOFF_TIME = timedelta(hours=env.float("AXES_COOLOFF_HOURS", default=0.25))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["ip_address"]]
# A successful sign-in clears that username's failures from that network (the handler keeps the
# network's count, or one account of one's own could wipe it between guesses).
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout: failures while locked out do not extend it, so "try again
# in N minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# 429 + Retry-After for both doors: JSON under /api/, a page that says when to come back otherwise.
AXES_LOCKOUT_CALLABLE = "api.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Minimization: no log of successful sign-ins (IP, user agent). Failed attempts (username, IP) are
# security data kept only while they count: expired ones are deleted at the next attempt.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# IP addresses are not stored: the per-IP lockout counts per /24 (IPv4) or /48 (IPv6) network,
# resolved behind TRUSTED_PROXY_COUNT proxies (see privacy.ip).
AXES_CLIENT_IP_CALLABLE = "privacy.ip.client_ip_truncated"

# --- Security ------------------------------------------------------------------------------
HTTPS = env.bool("HTTPS", default=not DEBUG)
# TLS ends at the proxy, which says so in this header; only trust it behind such a proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Content-Security-Policy: everything from this origin, no inline script, no inline style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Product settings ----------------------------------------------------------------------
MAX_PROFILES_PER_ACCOUNT = 5
# Households (common.sudo): how long an entered account password is trusted for account-level
# actions, and how many wrong profile PINs lock a profile's selection for how long.
SUDO_MODE_SECONDS = env.int("SUDO_MODE_SECONDS", default=600)
PROFILE_PIN_FAILURE_LIMIT = 5
PROFILE_PIN_LOCKOUT_SECONDS = 15 * 60
SEARCH_RETENTION_DAYS = env.int("SEARCH_RETENTION_DAYS", default=90)
VIEWING_RETENTION_DAYS = env.int("VIEWING_RETENTION_DAYS", default=730)
# The policy in force: the newest entry of privacy.policy.VERSIONS (a test holds them equal).
PRIVACY_POLICY_VERSION = "2026-12-08"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Search terms are personal: request lines carrying ?q= are redacted before any handler.
    "filters": {"redact_search": {"()": "catalog.search_logging.RedactSearchTerms"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_search"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_search"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# --- Recommendations schedule ----------------------------------------------------------------
# Nightly retrain, plus a check every 5 minutes that enqueues one when enough new interactions
# (RECOMMENDER_RETRAIN_THRESHOLD) arrived since the serving model was trained.
RECOMMENDER_RETRAIN_THRESHOLD = env.int("RECOMMENDER_RETRAIN_THRESHOLD", default=500)
# A new model may be at most this much worse (absolute nDCG@10) than the serving one.
RECOMMENDER_PROMOTION_TOLERANCE = env.float("RECOMMENDER_PROMOTION_TOLERANCE", default=0.02)
# Overrides of recommendations.params.HybridParams for this deployment (a dict; empty = the
# defaults the benchmark chose).
RECOMMENDER_PARAMS: dict = {}
from celery.schedules import crontab  # noqa: E402 - kept inside this app's block

CELERY_BEAT_SCHEDULE["recommendations-nightly-retrain"] = {
    # Through the outbox like every other training (a worker killed mid-fit is then replaced).
    "task": "recommendations.tasks.model_train_scheduled",
    "schedule": crontab(hour=3, minute=30),
    "kwargs": {"trigger": "nightly"},
}
# Model versions whose files stay on disk (plus the serving one); a daily task prunes the rest.
MODEL_VERSIONS_KEEP = env.int("MODEL_VERSIONS_KEEP", default=5)
CELERY_BEAT_SCHEDULE["recommendations-prune-versions"] = {
    "task": "recommendations.tasks.model_versions_prune",
    "schedule": crontab(hour=5, minute=15),
}
CELERY_BEAT_SCHEDULE["recommendations-check-new-interactions"] = {
    "task": "recommendations.tasks.interactions_check",
    "schedule": 5 * 60.0,
}

# --- Privacy schedule (owned by the privacy app; periods read by the policy page) ------------
EXPORT_EXPIRY_DAYS = env.int("EXPORT_EXPIRY_DAYS", default=7)
EXPORT_MIN_INTERVAL_HOURS = env.int("EXPORT_MIN_INTERVAL_HOURS", default=24)
SECURITY_LOG_RETENTION_HOURS = env.int("SECURITY_LOG_RETENTION_HOURS", default=24)
CELERY_BEAT_SCHEDULE.update(
    {
        # Searches, viewing and sign-in records past their retention; expired export files.
        "privacy-retention-purge": {"task": "privacy.tasks.retention_purge", "schedule": 60 * 60 * 6},
        # Exports expire to the hour, so the file goes soon after its expiry time.
        "privacy-exports-expire": {"task": "privacy.tasks.exports_expire", "schedule": 60 * 15},
        # A lost or failed erasure task must not leave a deleted person's data behind.
        "privacy-erasures-retry": {"task": "privacy.tasks.erasures_retry", "schedule": 60 * 30},
    }
)

# --- Insights schedule (owned by the insights app) -------------------------------------------
# Groups backed by fewer distinct profiles than this are never shown (k-anonymity).
INSIGHTS_MIN_GROUP_SIZE = env.int("INSIGHTS_MIN_GROUP_SIZE", default=10)
IMPRESSION_RETENTION_DAYS = env.int("IMPRESSION_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE.update(
    {
        "insights-nightly-aggregate": {"task": "insights.tasks.insights_compute_nightly", "schedule": crontab(hour=4)},
        "insights-impressions-purge": {"task": "insights.tasks.impressions_purge", "schedule": 60 * 60 * 24},
    }
)

# --- Operations: the task outbox (ops.outbox) --------------------------------------------------
# Every task the product enqueues is a row written with the request; the sweeper hands the broker
# again what it never accepted (broker down), lost (accepted, not started after
# OUTBOX_REDISPATCH_SECONDS, doubling per attempt) or what a dead worker held (no heartbeat for
# OUTBOX_DEAD_AFTER_SECONDS). Finished rows are kept OUTBOX_KEEP_DAYS for the metrics.
OUTBOX_PENDING_GRACE_SECONDS = env.float("OUTBOX_PENDING_GRACE_SECONDS", default=15)
OUTBOX_REDISPATCH_SECONDS = env.float("OUTBOX_REDISPATCH_SECONDS", default=300)
OUTBOX_HEARTBEAT_SECONDS = env.float("OUTBOX_HEARTBEAT_SECONDS", default=15)
OUTBOX_DEAD_AFTER_SECONDS = env.float("OUTBOX_DEAD_AFTER_SECONDS", default=60)
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=7)
# Without a broker (the embedded stack), a queued task runs in a background thread of the web
# process after commit (ops.background), never inside the request that queued it; false runs it
# inline at dispatch, as the test suite does by default.
OUTBOX_EAGER_THREADS = env.bool("OUTBOX_EAGER_THREADS", default=True)
# Long jobs (training, exports, erasures, insights) hold a lease renewed every JOB_LEASE_SECONDS/3;
# a dead holder's lease lapses within JOB_LEASE_SECONDS and the next run takes over.
JOB_LEASE_SECONDS = env.float("JOB_LEASE_SECONDS", default=90)
CELERY_BEAT_SCHEDULE["ops-outbox-sweep"] = {
    "task": "ops.tasks.outbox_sweep",
    "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=60.0),
}

# --- Operations: health, readiness, metrics ---------------------------------------------------
# /healthz (alive), /readyz (database, migrations, cache, broker; 503 + Retry-After when one is
# down) and /metrics (Prometheus): ops.views, README "Operations". A load balancer probes over
# plain HTTP, so the HTTPS redirect skips them (SecurityMiddleware matches the path without its
# leading slash). Probes must still send a Host in ALLOWED_HOSTS.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
READINESS_RETRY_AFTER = env.int("READINESS_RETRY_AFTER", default=10)
# Checks still reported but no longer failing readiness (e.g. "cache,broker": the site rides out
# their outage, and a shared Redis that fails every host's probe empties the load balancer).
READINESS_OPTIONAL = env.list("READINESS_OPTIONAL", default=[])
# A database outage answers 503 with this Retry-After on every page and endpoint (ops.middleware).
DATABASE_UNAVAILABLE_RETRY_AFTER = env.int("DATABASE_UNAVAILABLE_RETRY_AFTER", default=30)
# DRF would turn a database error in an API view into a JSON 500 (api.errors); this handler is
# api.errors' own, except that it hands a database outage to the middleware above (503).
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "ops.middleware.api_exception_handler"
if DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # An unreachable database (dropped packets, not a refusal) must fail a request, and the
    # readiness probe, in seconds rather than after the kernel's TCP timeout of minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
# /metrics: for these networks (the direct peer's address, never X-Forwarded-For) or for
# `Authorization: Bearer <METRICS_TOKEN>` (empty: no token accepted); anyone else gets a 404.
# With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (emptied before each start).
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- PRIVACY_* and SITE_URL (issue 15 req 7: the policy, the export email) -------------------
# The site's own address, for links in emails (a task has no request to build one from): the
# "your data is ready" email links to the export's page here. Set it in production; the
# fallback is the first plain ALLOWED_HOSTS name (not "*" nor a ".domain" wildcard), or the local
# server under DEBUG; with neither, production refuses to start rather than email broken links.
_plain_hosts = [h for h in ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
SITE_URL = env("SITE_URL", default="").rstrip("/")
if not SITE_URL:
    if DEBUG:
        SITE_URL = f"http://127.0.0.1:{env('PORT', default='8000')}"
    elif _plain_hosts:
        SITE_URL = f"{'https' if HTTPS else 'http'}://{_plain_hosts[0]}"
    else:
        raise ImproperlyConfigured("SITE_URL is required when ALLOWED_HOSTS names no plain host (links in emails).")
# Who is responsible for the data (GDPR Art. 13(1)(a)) and how to reach them: shown on the privacy
# policy page. The defaults name the demo operator; a real deployment sets its own.
PRIVACY_CONTROLLER_NAME = env("PRIVACY_CONTROLLER_NAME", default="Marquee Demo Ltd")
PRIVACY_CONTACT_EMAIL = env("PRIVACY_CONTACT_EMAIL", default="privacy@marquee.local")
PRIVACY_CONTROLLER_ADDRESS = env("PRIVACY_CONTROLLER_ADDRESS", default="")  # optional postal address
# Where a person may complain (Art. 13(2)(d)): their own country's authority is always an option.
PRIVACY_SUPERVISORY_AUTHORITY = env(
    "PRIVACY_SUPERVISORY_AUTHORITY", default="the data protection authority of the country where you live or work"
)
PRIVACY_SUPERVISORY_AUTHORITY_URL = env(
    "PRIVACY_SUPERVISORY_AUTHORITY_URL", default="https://www.edpb.europa.eu/about-edpb/about-edpb/members_en"
)
