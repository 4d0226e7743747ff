"""Settings, all read from the environment here and nowhere else.

With no environment at all the project runs on its embedded default: a SQLite
file under var/, a file cache, and Celery tasks run eagerly in the calling
process. DATABASE_URL moves it to PostgreSQL, REDIS_URL to a real broker and
cache. Secrets may be given as NAME or as NAME_FILE (a path to a file holding
the value), the way container secrets are mounted.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def secret(name, default=None):
    """Read NAME, or the file NAME_FILE points at; never echo the value."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {path!r}, which cannot be read ({exc.strerror})."
            ) from None
    value = env.str(name, default="")
    if value:
        return value
    if default is None:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE.")
    return default


DEBUG = env.bool("DEBUG", default=False)
# "production" turns on HTTPS-only cookies, HSTS and the redirect to HTTPS.
DEPLOYMENT = env.str("DEPLOYMENT", default="local")
PRODUCTION = DEPLOYMENT == "production"

# The insecure defaults keep a fresh clone running; `check --deploy` flags them
# and production refuses to start with them.
SECRET_KEY = secret("SECRET_KEY", default="django-insecure-local-only-change-me")
# Field encryption has its own key so rotating SECRET_KEY (sessions, signing)
# does not make the stored Traction Rec secrets unreadable.
FIELD_ENCRYPTION_KEY = secret(
    "FIELD_ENCRYPTION_KEY", default="insecure-local-field-key-change-me"
)
if PRODUCTION and (
    SECRET_KEY.startswith("django-insecure-")
    or FIELD_ENCRYPTION_KEY.startswith("insecure-")
):
    raise ImproperlyConfigured(
        "DEPLOYMENT=production needs SECRET_KEY and FIELD_ENCRYPTION_KEY of its own."
    )
CRYPTOGRAPHY_KEY = FIELD_ENCRYPTION_KEY
CRYPTOGRAPHY_SALT = "traction_rec.fields"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "traction_rec",
    "traction_rec_import",
    "activity_finder",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE let the web server read while an import writes, and make
    # a second writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="ymca"),
        }
    }
else:
    # A file cache is shared by every process on the machine, so a Salesforce
    # token fetched by the worker is reused by the web process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery: a real broker when REDIS_URL is set, otherwise tasks run eagerly in
# the calling process so the demo and the tests need no broker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker logs through LOGGING (one line per event), not Celery's format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LANGUAGE_CODE = "en-us"
# The association's local zone: Traction Rec sends times as local wall-clock
# text ("6:00 PM"), read in this zone.
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
# Beat reads schedules in the site's local time.
CELERY_TIMEZONE = TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Outside production, serve static files straight from the apps (no
# collectstatic step for the demo); production serves the collected, hashed copies.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Traction Rec
# Fetch output: a folder per run under fetch/, moved to backups/ after import.
TRACTION_REC_DATA_DIR = Path(
    env.str("TRACTION_REC_DATA_DIR", default=str(VAR_DIR / "traction_rec"))
)
# The private key may come from the environment or a file instead of the
# database (like Drupal's Key module); the admin chooses which.
TRACTION_REC_PRIVATE_KEY = secret("TRACTION_REC_PRIVATE_KEY", default="")
# Sites deviate from the standard Traction Rec model: extra fields and
# conditions per query, as JSON ({"sessions": {"fields": [...], "where": [...]}}).
TRACTION_REC_QUERY_OVERRIDES = env.json("TRACTION_REC_QUERY_OVERRIDES", default={})

# Security: production turns on the HTTPS-only settings.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz is probed over plain HTTP inside the deployment network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# /healthz fails when the last complete import is older than this.
HEALTH_MAX_SYNC_AGE_HOURS = env.int("HEALTH_MAX_SYNC_AGE_HOURS", default=30)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # One line per event: time, level, logger, message with ids and counts.
        "line": {"()": "traction_rec_import.logformat.OneLineFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "line"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "traction_rec": {"level": LOG_LEVEL},
        "traction_rec_import": {"level": LOG_LEVEL},
        "activity_finder": {"level": LOG_LEVEL},
        "django.request": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
    },
}
