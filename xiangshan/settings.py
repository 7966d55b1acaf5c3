"""Settings: the one place that reads the environment.

Two modes, chosen by the environment alone:

* **Embedded default** (nothing set): SQLite under ``var/``, Celery tasks run eagerly in the
  calling process, the in-memory channel layer plus the ``core.LiveEvent`` outbox relay so
  that a warning raised by a command-line ingest still reaches open pages live.
* **Production** (``DATABASE_URL`` and ``REDIS_URL`` set): PostgreSQL (PostGIS where the
  database has it), Redis as Celery broker/result store, channel layer, cache and
  per-vessel track state; separate Celery worker and beat processes. Production refuses to
  start without its secrets.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env("XIANGSHAN_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASE_URL = env("DATABASE_URL", default="")
REDIS_URL = env("REDIS_URL", default="")
PRODUCTION = bool(DATABASE_URL and REDIS_URL)
DEBUG = env.bool("DJANGO_DEBUG", default=False)


def _local_secret(name: str, factory) -> str:
    """A secret kept in ``var/`` for the embedded default, created once."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(factory())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


if PRODUCTION:
    try:
        SECRET_KEY = env("DJANGO_SECRET_KEY")
        TIPSTER_KEYS = env.list("TIPSTER_KEYS")
    except ImproperlyConfigured as exc:  # refuse to start without secrets
        raise ImproperlyConfigured(f"production mode needs its secrets: {exc}") from exc
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="") or _local_secret(
        "secret_key", lambda: secrets.token_urlsafe(50)
    )
    TIPSTER_KEYS = env.list("TIPSTER_KEYS", default=[]) or [_local_secret("tipster_key", _fernet_key)]

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "axes",
    "django_celery_beat",
    "channels",
    "apps.core",
    "apps.elements",
    "apps.enforcement",
    "apps.sources",
    "apps.reporting",
    "apps.cockpit",
    "apps.intel",
    "apps.notifications",
]

MIDDLEWARE = [
    "apps.core.net.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.net.RequestBorderMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.audit.AuditMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xiangshan.urls"
ASGI_APPLICATION = "xiangshan.asgi.application"
WSGI_APPLICATION = None

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
                "apps.core.context_processors.platform",
                "apps.core.context_processors.map_config",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.contrib.gis.db.backends.postgis":
        # GeoDjango would need the system GDAL; geometry work happens in shapely in the
        # workers, so PostGIS URLs use the plain backend (the extension is still created).
        DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", default=str(VAR_DIR / "xiangshan.sqlite3")),
            # WAL: readers never wait for the writer; busy timeout (s): a writer waits for the
            # other rather than failing; IMMEDIATE: a transaction takes the write lock when it
            # starts, so two clients never deadlock upgrading a read ("database is locked").
            "OPTIONS": {
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

if env.bool("XIANGSHAN_FAST_HASHER", default=False):  # test runs only: hashing dominates their time
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # login throttling and lockout (first: it refuses early)
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Redis: cache, Celery, Channels ----------------------------------------------------
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Delivery (docs/operations.md, "Delivery guarantees"): every task is idempotent, so a task is
# acknowledged only after it has run (acks_late) and put back when the process running it dies
# (reject_on_worker_lost): at-least-once, never at-most-once. A message taken by a worker that
# died as a whole comes back after the Redis visibility timeout; live workers keep the messages
# they hold from timing out (heartbeat, xiangshan/celery.py), so the timeout can be seconds.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TRACK_STARTED = True  # producers see which worker runs a batch (lost-batch check, ingest.py)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a worker holds no more than it runs: less to redeliver after a crash
CELERY_VISIBILITY_TIMEOUT_S = env.int("CELERY_VISIBILITY_TIMEOUT_S", default=30)
CELERY_UNACKED_HEARTBEAT_S = max(1, CELERY_VISIBILITY_TIMEOUT_S // 4)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": 2,  # look for timed-out messages every 2 s (default: 100 s)
    "unacked_restore_throttle": 1,
    "socket_timeout": 30,
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
    "health_check_interval": 10,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 5, "socket_keepalive": True, "health_check_interval": 10}
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True  # Redis restarting: results are written once it is back
CELERY_RESULT_BACKEND_MAX_RETRIES = 20
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # workers wait for the broker however long it is away
# A task running when the broker connection drops finishes its transaction (cancelling it would
# kill it mid-rollback and record a failure); its acknowledgement is lost, so it runs once more,
# which the idempotent tasks make harmless.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict = {}  # each app adds its periodic jobs in its AppConfig.ready

# --- Internationalisation: Chinese first, English via i18n ------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files (all served locally: no CDN) -----------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)

# --- REST API conventions shared by every module ----------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "apps.core.api.AuditedTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.permissions.IsStaffMember"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.Pagination",
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.ObjectJSONParser",  # a JSON body that is not an object is a 400
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
}
# /api/schema/, /api/docs/, /api/redoc/: for signed-in users unless opened on purpose.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if API_DOCS_PUBLIC else "rest_framework.permissions.IsAuthenticated"
    ],
    "TITLE": "象山海上反走私综合治理平台 API",
    "DESCRIPTION": "Xiangshan coastal anti-smuggling platform: element control, enforcement, "
    "source governance, public reporting, decision cockpit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # one schema name per shared choice set (several models share kind/level/status/state)
    "ENUM_NAME_OVERRIDES": {
        "WarningLevelEnum": "apps.elements.models.Warning.Level",
        "WarningKindEnum": "apps.elements.models.Warning.Kind",
        "WarningStatusEnum": "apps.elements.models.Warning.Status",
        "GeofenceKindEnum": "apps.elements.models.Geofence.Kind",
        "GeofenceStatusEnum": "apps.elements.models.Geofence.Status",
        "TaskStateEnum": "apps.enforcement.models.Task.State",
        "CaseStatusEnum": "apps.enforcement.models.Case.Status",
        "FacilityKindEnum": "apps.sources.models.FacilityKind",
        "NotificationChannelKindEnum": "apps.notifications.models.Channel.Kind",
        "SensorEventKindEnum": "apps.sources.models.SensorEvent.Kind",
        "ElementKindEnum": "apps.intel.models.Element.Kind",
        "LinkKindEnum": "apps.intel.models.Link.Kind",
    },
}

# --- Audit trail -------------------------------------------------------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- Domain settings ----------------------------------------------------------------------
FIX_RETENTION_DAYS = env.int("FIX_RETENTION_DAYS", default=180)
PATROL_WINDOW_BEFORE_MIN = env.int("PATROL_WINDOW_BEFORE_MIN", default=120)
PATROL_WINDOW_AFTER_MIN = env.int("PATROL_WINDOW_AFTER_MIN", default=120)
# The base map's tile service (天地图 intranet, a county GIS XYZ/WMTS-KVP URL template with
# {z}/{x}/{y} and optional {s}); empty: the local base map drawn from geodata/ alone.
# See docs/operations.md "Base map".
MAP_TILES = {
    "url": env("MAP_TILE_URL", default=""),
    "attribution": env("MAP_TILE_ATTRIBUTION", default=""),
    "max_zoom": env.int("MAP_TILE_MAX_ZOOM", default=18),
    "subdomains": env("MAP_TILE_SUBDOMAINS", default=""),
}
#: Per-source overrides of the detectors' source profiles (defaults and meaning: the table in
#: apps/elements/domain/tracks.py and docs/architecture.md), e.g.
#: {"beidou": {"interpolation_limit_min": 30, "allowed_lateness_min": 60}}.
ELEMENTS_SOURCES: dict = {}
NOTIFICATION_BACKENDS = env.list(
    "NOTIFICATION_BACKENDS", default=["apps.core.notify.LogBackend", "apps.notifications.backend.GatewayBackend"]
)
# absolute links in robot messages, SMS and mail (e.g. https://xs.example.gov.cn)
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
NOTIFY_RETRY_BASE_S = env.float("NOTIFY_RETRY_BASE_S", default=30.0)
# host names notification gateways may be reached at (e.g. oapi.dingtalk.com,qyapi.weixin.qq.com,
# sms.tencentcloudapi.com); empty: any host. Checked when a channel is saved and before each send.
NOTIFY_ALLOWED_HOSTS = env.list("NOTIFY_ALLOWED_HOSTS", default=[])
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="xiangshan@localhost")

# --- Client address, login lockout, transport security (docs/operations.md "Proxy and security") --
# Reverse proxies in front of daphne (addresses or networks); see apps/core/net.py.
TRUSTED_PROXIES = env.list("DJANGO_TRUSTED_PROXIES", default=[])
RATELIMIT_IP_META_KEY = "apps.core.net.ratelimit_ip"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # one account from one address
AXES_CLIENT_IP_CALLABLE = "apps.core.net.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "apps.core.views.locked_out"
AXES_VERBOSE = False
# HTTPS: on in production (behind a TLS-terminating proxy that sets X-Forwarded-Proto).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=PRODUCTION)
_proxy_ssl = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO=https" if PRODUCTION else "")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl.split("=", 1)) if _proxy_ssl else None

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # urllib3 logs request URLs at DEBUG, and robot webhook URLs carry their tokens: never below WARNING
    "loggers": {"daphne": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
