"""One settings module, read from the environment (see .env.example).

Defaults are for a fresh clone: SQLite and the built-in call simulator, so
`make run` works without a Twilio account. Production sets DEBUG=false,
SECRET_KEY, DATABASE_URL and real Twilio credentials.
"""

import base64
import hashlib
import hmac
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (`make run` writes one with a generated SECRET_KEY); real environment
# variables win over it. ENV_FILE names another file (tests name none).
environ.Env.read_env(os.environ.get("ENV_FILE") or BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Required even with DEBUG: it signs sessions and derives the simulator's credentials,
# so a default written here would let anyone who read the repo forge them.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. `make run` writes one to .env on its first run; "
        "otherwise set SECRET_KEY in the environment or .env to a long random string: "
        'python -c "import secrets; print(secrets.token_urlsafe(50))"'
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# Where Twilio reaches us: webhook URLs and their signatures are built from it.
PUBLIC_URL = env.str("PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "axes",
    # Not "rest_framework": it is only a package of templates and template tags for its
    # browsable API, which we do not serve, and its tag library imports psycopg, requests,
    # pyyaml and pygments into every web worker when the template engine starts (20 MB).
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ivr_project",
    "transactions",
    "voiceflow",
    "simulator",
    "reports",
]

MIDDLEWARE = [
    # First: a charset that cannot decode text is refused before anything reads a parameter.
    "ivr_project.middleware.RefuseUnusableCharsetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ivr_project.middleware.RefuseNullCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a sign-in that django-axes refused into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ivr_project.urls"
WSGI_APPLICATION = "ivr_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ivr_project.context_processors.product",
            ],
        },
    },
]

# Database: SQLite file by default; PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside a writer; IMMEDIATE takes the write lock at
    # BEGIN, so concurrent webhooks wait (busy timeout, seconds) instead of
    # failing with "database is locked" halfway through a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory: tests exercise several threads and processes.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("TEST_SQLITE_PATH", default=str(BASE_DIR / "var" / "test.sqlite3"))
    }
    # Reopening the file costs each request its PRAGMAs, and closing it after a
    # write a WAL checkpoint; a server sets CONN_MAX_AGE to keep it open.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Every answer adds entries to the search indexes' pending lists, and every search
    # reads them whole: merged at 128 kB, not 4 MB (the importer raises it while it loads).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c gin_pending_list_limit=128kB".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# `manage.py loaddata sample_transactions` finds fixtures/sample_transactions.json.
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# No rate limit counts in the cache: they are kept in the database (ivr_project/ratelimit.py).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        # "events": outcome events to the bank; "reports": the reports' rollup. Each
        # on a worker of its own (`make run`), so neither holds up placing calls.
        "QUEUES": ["default", "events", "reports"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes' backend first: a limited name or address is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names need `collectstatic` first (production);
        # tests set STATIC_MANIFEST=false and serve plain names from the finders.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Tests and `runserver` serve from the finders; no collectstatic needed.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_MANIFEST_STRICT = False

# HTTPS and cookies. A proxy that terminates TLS, or a local run over http,
# switches SECURE_SSL_REDIRECT off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# No inline script anywhere: every script is a static file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Twilio. With no TWILIO_SID the built-in simulator plays Twilio: the real
# twilio client talks to it over HTTP with credentials derived from SECRET_KEY
# (the same in every process), and it calls our real, signed webhooks.
TWILIO_SID = env.str("TWILIO_SID", default="")
SIMULATION = not TWILIO_SID
SIMULATOR_PREFIX = "simulator/"
if SIMULATION:
    # HMAC as a key derivation (not a signature check, which twilio's RequestValidator
    # does): every process derives the same simulated account from the one secret.
    _derived = hmac.new(SECRET_KEY.encode(), b"ivr-simulator", hashlib.sha256).hexdigest()
    TWILIO_SID = "AC" + _derived[:32]
    TWILIO_AUTH_TOKEN = _derived[32:64]
    TWILIO_NUMBER = env.str("TWILIO_NUMBER", default="+15005550006")
    # The simulator's built-in receiver of outcome events checks signatures with this
    # Standard Webhooks secret; `make run` registers it as an endpoint (same derivation).
    SIMULATOR_EVENTS_SECRET = (
        "whsec_"
        + base64.b64encode(
            hmac.new(SECRET_KEY.encode(), b"ivr-simulator-events", hashlib.sha256).digest()
        ).decode()
    )
    TWILIO_API_BASE_URL = (
        env.str("TWILIO_API_BASE_URL", default="") or f"{PUBLIC_URL}/{SIMULATOR_PREFIX}api"
    ).rstrip("/")
else:
    TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN")
    TWILIO_NUMBER = env.str("TWILIO_NUMBER")
    TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="").rstrip("/")
# Seconds the twilio client waits for Twilio's REST API before giving up (a click never hangs).
TWILIO_HTTP_TIMEOUT = env.float("TWILIO_HTTP_TIMEOUT", default=10.0)
# Simulated calls: a ringing call waits this long (real seconds) for a person on
# the softphone, then a scripted customer answers; scripted customers' waits are
# scaled (0.25: four times faster than real); a person hears the bank in real time.
SIMULATOR_PICKUP_SECONDS = env.float("SIMULATOR_PICKUP_SECONDS", default=8.0)
SIMULATOR_TIME_SCALE = env.float("SIMULATOR_TIME_SCALE", default=0.25)
SIMULATOR_PERSON_TIME_SCALE = env.float("SIMULATOR_PERSON_TIME_SCALE", default=1.0)

# Automatic calling (bulk, retries, calling hours).
CALLS_PER_SECOND = env.float("CALLS_PER_SECOND", default=1.0)
CALL_RETRY_DELAYS_MINUTES = env.list("CALL_RETRY_DELAYS_MINUTES", cast=int, default=[15, 180])
CALL_RETRY_WINDOW_HOURS = env.int("CALL_RETRY_WINDOW_HOURS", default=72)
CALLING_HOURS = env.str("CALLING_HOURS", default="08:00-21:00")
DEFAULT_CUSTOMER_TIME_ZONE = env.str("DEFAULT_CUSTOMER_TIME_ZONE", default="Asia/Kolkata")
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="IN")
STALE_CALL_MINUTES = env.int("STALE_CALL_MINUTES", default=10)
# Rows one "Call all pending" request queues (10,000 take a few seconds; press again for more).
BULK_CALL_LIMIT = env.int("BULK_CALL_LIMIT", default=10_000)
# How often an open dashboard asks for changed rows, in seconds.
DASHBOARD_POLL_SECONDS = env.float("DASHBOARD_POLL_SECONDS", default=5.0)
# The alerts API's change listing holds back changes younger than this, in seconds: a
# change written earlier but committed later than a newer one would otherwise be paged
# past and never listed.
API_CHANGES_DELAY_SECONDS = env.float("API_CHANGES_DELAY_SECONDS", default=5.0)
# Rate limits ("N/period", see ivr_project/ratelimit.py), counted in the database:
# failed sign-ins per name and per client address, and calls an analyst may place by hand.
LOGIN_RATE_LIMIT = env.str("LOGIN_RATE_LIMIT", default="5/5m")
LOGIN_RATE_LIMIT_PER_ADDRESS = env.str("LOGIN_RATE_LIMIT_PER_ADDRESS", default="30/5m")
CALL_RATE_LIMIT = env.str("CALL_RATE_LIMIT", default="20/1m")
# Reverse proxies in front of the app, each adding the address it saw to X-Forwarded-For.
# 0: the connection's address is the client's, and the header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Failed sign-ins: django-axes with our two limits, folded names and the client's address.
AXES_HANDLER = "ivr_project.ratelimit.SignInLimits"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each its own count, in this order
AXES_FAILURE_LIMIT = "ivr_project.ratelimit.login_failure_limit"
AXES_COOLOFF_TIME = "ivr_project.ratelimit.login_cool_off"
AXES_USERNAME_CALLABLE = "ivr_project.ratelimit.login_name"
AXES_CLIENT_IP_CALLABLE = "ivr_project.ratelimit.client_address"
AXES_LOCKOUT_CALLABLE = "ivr_project.ratelimit.login_refused"
# Attempts while refused are not counted: the wait runs from the last counted failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No start-up banner on every manage.py command.
AXES_VERBOSE = False
# The worker's periodic tick (retries, calling hours, sweeps) and how long a
# worker may hold an automatic call before another one takes it over.
AUTOCALL_TICK_SECONDS = env.float("AUTOCALL_TICK_SECONDS", default=5.0)
AUTOCALL_LEASE_SECONDS = env.int("AUTOCALL_LEASE_SECONDS", default=120)
# Outcome events to the bank's endpoints: seconds to wait for an answer, waits
# between attempts (the last repeats), and how long after the first to keep trying.
EVENT_HTTP_TIMEOUT = env.float("EVENT_HTTP_TIMEOUT", default=5.0)
EVENT_RETRY_DELAYS_SECONDS = env.list(
    "EVENT_RETRY_DELAYS_SECONDS", cast=int, default=[5, 30, 120, 600, 1800, 3600, 7200]
)
EVENT_RETRY_WINDOW_HOURS = env.float("EVENT_RETRY_WINDOW_HOURS", default=24)
# After an endpoint's secret is rotated, hours the old one still signs its events too.
WEBHOOK_SECRET_OVERLAP_HOURS = env.float("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)

# The bank's alerts API (transactions/api/): API keys only, no session, no CSRF;
# problem+json errors; JSON in and out, nothing browsable.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["transactions.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["transactions.api.auth.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["transactions.api.auth.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["transactions.api.parsers.DecimalJSONParser"],
    "EXCEPTION_HANDLER": "transactions.api.problems.exception_handler",
    # OPTIONS answers 405 like any other undescribed method, not DRF's metadata.
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IVR fraud verification: alerts API",
    "DESCRIPTION": (
        "The bank sends suspicious-transaction alerts; we call the customers and "
        "report what they said. Send `Authorization: Bearer <key>` with every request.\n\n"
        "Errors are `application/problem+json` (RFC 9457). Their `type` is "
        "`/api/v1/problems/invalid-alerts` (400: `errors` lists each bad field of each "
        "bad alert by index, id, field and reason), `/api/v1/problems/alert-conflict` "
        "(409: `ids` lists the alerts already called or decided), or `about:blank` "
        "(the status says it all)."
    ),
    "VERSION": "1",
    # 3.1: its schemas are JSON Schema, so the tests validate responses with jsonschema.
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_URLCONF": "transactions.api.described",
    # Operations are tagged by the path after it: "alerts".
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's scripts from our static files: the CSP allows no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None},
}

# Reports: how often the worker recomputes the recent days of the daily rollup.
REPORTS_ROLLUP_MINUTES = env.float("REPORTS_ROLLUP_MINUTES", default=5.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"quiet_periodic_tasks": {"()": "ivr_project.logfilters.QuietPeriodicTasks"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.tasks": {"filters": ["quiet_periodic_tasks"]},
    },
}
