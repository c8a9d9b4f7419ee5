"""Settings shared by every environment, each read from an environment variable with a safe default.

``DATABASE_URL`` points at any PostGIS; without it we use the cluster that ``make db-start`` runs:
the private one under ``var/pg`` when it exists (a normal user's machine), else the local socket
(Debian's own cluster, which is what root uses).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable as a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def default_database_url() -> str:
    """The URL of the cluster ``make db-start`` runs when ``DATABASE_URL`` is not set."""
    private_socket_dir = BASE_DIR / "var" / "pg" / "run"
    name = os.environ.get("TAAMIR_DB_NAME", "taamir")
    if private_socket_dir.is_dir() and os.geteuid() != 0:
        port = os.environ.get("TAAMIR_PG_PORT", "54329")
        return f"postgis://@/{name}?host={private_socket_dir}&port={port}"
    return f"postgis:///{name}"


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "procrastinate.contrib.django",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "geo",
    "permits",
    "plans",
    "tiles",
    "etl",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "permits.middleware.StaffMfaRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
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

DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or default_database_url())}
# GeoDjango needs the PostGIS backend even when the URL says postgres:// or postgresql://.
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
# Under ASGI every request runs in its own thread: without a pool each one opens a new connection.
# Django's psycopg pool (DATABASE_POOL=1, the default) keeps them; it requires CONN_MAX_AGE = 0.
if env_bool("DATABASE_POOL", True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN", "1")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX", "10")),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "permits:home"
ACCOUNT_FORMS = {"signup": "permits.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("TAAMIR_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Taamir"
# Staff roles (desk, committee, signatories, inspectors, planners, admins) must set up MFA;
# permits.middleware sends them to the MFA page until they have. Off only for tests and demos.
TAAMIR_REQUIRE_STAFF_MFA = env_bool("TAAMIR_REQUIRE_STAFF_MFA", True)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# French first, then Arabic (right to left) and English as complete alternatives.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("ar", _("العربية")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TAAMIR_TIME_ZONE", "Africa/Casablanca")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# The OpenLayers bundle is built locally by ``make`` (npm + esbuild) into static_build/.
STATICFILES_DIRS = [BASE_DIR / "static_build"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("TAAMIR_MEDIA_ROOT", BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": os.environ.get("TAAMIR_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Documents and issued PDFs go to an S3-compatible object store (AWS, MinIO, Ceph, OVH…) when a bucket
# is named; app servers then share no disk. Files are private: links are signed for 5 minutes.
if os.environ.get("TAAMIR_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["TAAMIR_S3_BUCKET"],
            "endpoint_url": os.environ.get("TAAMIR_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("TAAMIR_S3_REGION") or None,
            "access_key": os.environ.get("TAAMIR_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("TAAMIR_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("TAAMIR_S3_PREFIX", "taamir"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "config.authentication.PasswordOnlyForNonStaffBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "EXCEPTION_HANDLER": "config.api_errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Taamir API",
    "DESCRIPTION": "Paperless permits and the geo-portal: parcels, zoning, constraints, administrative areas.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets come from the drf-spectacular-sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Mail and SMS. E-mail goes through Django's backends (SMTP in production, configured by the
# environment); SMS through a pluggable backend: the outbox records messages in the database
# (development, tests, demo), the HTTP gateway posts them to TAAMIR_SMS_GATEWAY_URL with a token.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Taamir <no-reply@taamir.example>")
TAAMIR_SMS_BACKEND = os.environ.get("TAAMIR_SMS_BACKEND", "permits.sms.OutboxBackend")
TAAMIR_SMS_GATEWAY_URL = os.environ.get("TAAMIR_SMS_GATEWAY_URL", "")
TAAMIR_SMS_GATEWAY_TOKEN = os.environ.get("TAAMIR_SMS_GATEWAY_TOKEN", "")
# The address in links sent by e-mail and SMS, and in receipts' tracking links.
TAAMIR_PUBLIC_URL = os.environ.get("TAAMIR_PUBLIC_URL", "http://127.0.0.1:8000")

# Measurement: every length and area is computed in a projected CRS, never in degrees.
# The default is Merchich / Nord Maroc; a commune can name its own (26192, 26194, 26195).
TAAMIR_DEFAULT_PROJECTED_SRID = int(os.environ.get("TAAMIR_DEFAULT_PROJECTED_SRID", "26191"))
# Largest number of features one GeoJSON list answer may carry (the map pages through bboxes).
TAAMIR_API_MAX_FEATURES = int(os.environ.get("TAAMIR_API_MAX_FEATURES", "5000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TAAMIR_LOG_LEVEL", "INFO")},
    # procrastinate announces every task registration at INFO; commands should print only their result.
    "loggers": {
        "procrastinate": {"level": os.environ.get("TAAMIR_JOBS_LOG_LEVEL", "WARNING")},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Debian 12 ships GDAL 3.6; the GDAL 3.9 network-access guard is not available there. Spatial
# references come from our own code and EPSG codes, never from user-supplied URLs.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# --- Plans (issue 5) ---

# --- Signatures (issue 6) ---

# --- Geo-portal: WFS, OGC API, vector tiles, MapProxy, live events (issue 7) ---

# --- Exports and open data (issue 8) ---
