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
    "gisserver",
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
    "DESCRIPTION": (
        "Paperless permits and the geo-portal: parcels, zoning, constraints, administrative areas, dossiers, "
        "committees, plans, signatures and exports."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets come from the drf-spectacular-sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two "verdict" choice sets: a committee member's opinion and a document check at the desk.
    "ENUM_NAME_OVERRIDES": {
        "OpinionVerdictEnum": "permits.committee_models.Verdict",
        "ChecklistVerdictEnum": "permits.models.ChecklistVerdict",
    },
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
# Uploads above this size are refused before they are read; above the async threshold (MB or entities)
# a DXF is read by a background job in a child process with an address-space and CPU-time limit.
TAAMIR_PLAN_MAX_MB = int(os.environ.get("TAAMIR_PLAN_MAX_MB", "50"))
TAAMIR_PLAN_FOOTPRINT_LAYERS = env_list("TAAMIR_PLAN_FOOTPRINT_LAYERS", "EMPRISE,FOOTPRINT,BATI,BUILDING,CONSTRUCTION")
TAAMIR_PLAN_SITE_LAYERS = env_list("TAAMIR_PLAN_SITE_LAYERS", "LIMITE,SITE,PARCELLE,TERRAIN,BOUNDARY")
TAAMIR_PLAN_MAX_RMSE_M = float(os.environ.get("TAAMIR_PLAN_MAX_RMSE_M", "2.0"))
TAAMIR_PLAN_ASYNC_MB = float(os.environ.get("TAAMIR_PLAN_ASYNC_MB", "5"))
TAAMIR_PLAN_ASYNC_ENTITIES = int(os.environ.get("TAAMIR_PLAN_ASYNC_ENTITIES", "100000"))
TAAMIR_PLAN_JOB_MEMORY_MB = int(os.environ.get("TAAMIR_PLAN_JOB_MEMORY_MB", "2048"))
TAAMIR_PLAN_JOB_CPU_SECONDS = int(os.environ.get("TAAMIR_PLAN_JOB_CPU_SECONDS", "300"))
# PDF pages: resolution of the viewer's PNG render and of the georeferenced COG, and a cap on rendered pixels
# (a very large sheet is rendered at a lower resolution rather than exhausting memory).
TAAMIR_PLAN_PDF_DPI = int(os.environ.get("TAAMIR_PLAN_PDF_DPI", "150"))
TAAMIR_PLAN_COG_DPI = int(os.environ.get("TAAMIR_PLAN_COG_DPI", "200"))
TAAMIR_PLAN_MAX_RENDER_PIXELS = int(os.environ.get("TAAMIR_PLAN_MAX_RENDER_PIXELS", "80000000"))

# --- Signatures (issue 6) ---
# A permit is issued (or refused) only once its decision carries the signing authority's signature;
# signing the decision is what moves the dossier on. Off only in the test settings, where most workflow
# tests do not build a PKI (tests/permits/test_decision_signature_guard.py covers it switched on).
TAAMIR_DECISION_REQUIRES_SIGNATURE = env_bool("TAAMIR_DECISION_REQUIRES_SIGNATURE", True)
# Keys, certificates and CRLs of the development PKI (``signing_init``) live under this folder; private
# keys are always encrypted (PKCS#12 / PKCS#8 with a password). Production signers use their own
# PKCS#12 file or a PKCS#11 token, listed in TAAMIR_SIGNING_IDENTITIES (JSON: username -> {"pkcs12": path}
# or {"pkcs11": {"module", "token_label", "key_label", "cert_label"}}); the password or PIN is typed by the
# signer on the signing page and never stored.
TAAMIR_SIGNING_DIR = Path(os.environ.get("TAAMIR_SIGNING_DIR", BASE_DIR / "var" / "signing"))
TAAMIR_SIGNING_IDENTITIES = os.environ.get("TAAMIR_SIGNING_IDENTITIES", "")
# The development PKI: a root, an intermediate and one certificate per staff user, whose PKCS#12
# passwords are derived from SECRET_KEY (so the signing page can leave the password empty). Off in production.
TAAMIR_SIGNING_DEV_PKI = env_bool("TAAMIR_SIGNING_DEV_PKI", True)
# RFC 3161 timestamp authority: empty = PAdES B-B; set = B-T (B-LT when CRLs of the chain are known).
TAAMIR_SIGNING_TSA_URL = os.environ.get("TAAMIR_SIGNING_TSA_URL", "")
TAAMIR_SIGNING_TSA_TIMEOUT = int(os.environ.get("TAAMIR_SIGNING_TSA_TIMEOUT", "10"))
# Trusted roots for verification (PEM files, comma-separated); the dev root is added while the dev PKI is on.
TAAMIR_SIGNING_TRUST_ROOTS = env_list("TAAMIR_SIGNING_TRUST_ROOTS", "")
# CRL files (PEM or DER) embedded for B-LT and used when validating; the dev PKI's CRLs are added.
TAAMIR_SIGNING_CRLS = env_list("TAAMIR_SIGNING_CRLS", "")
# Seconds a signer's unlocked (encrypted) password stays usable by the signing job.
TAAMIR_SIGNING_UNLOCK_SECONDS = int(os.environ.get("TAAMIR_SIGNING_UNLOCK_SECONDS", "900"))
# Run signing jobs in the request (no worker needed: development and demos) or through procrastinate.
TAAMIR_SIGNING_INLINE = env_bool("TAAMIR_SIGNING_INLINE", False)
# Days after which a late signer is reminded (the reminder job runs daily).
TAAMIR_SIGNING_REMIND_AFTER_DAYS = int(os.environ.get("TAAMIR_SIGNING_REMIND_AFTER_DAYS", "2"))

# --- Geo-portal: WFS, OGC API, vector tiles, MapProxy, live events (issue 7) ---
# Raster tiles (/mapproxy/): MapProxy's generated configuration, MapServer mapfiles and tile caches live in
# TAAMIR_MAPPROXY_DIR; MapServer's CGI binary renders the GeoTIFFs (Debian's mapserver-bin).
TAAMIR_MAPPROXY_DIR = Path(os.environ.get("TAAMIR_MAPPROXY_DIR", BASE_DIR / "var" / "mapproxy"))
TAAMIR_MAPSERV_BINARY = os.environ.get("TAAMIR_MAPSERV_BINARY", "/usr/bin/mapserv")
# Vector tiles (/tiles/{layer}/{z}/{x}/{y}.pbf): the deepest zoom served and cached, and how long
# browsers and proxies may keep a tile (the cache on the server is invalidated precisely on every change).
TAAMIR_TILES_MAX_ZOOM = int(os.environ.get("TAAMIR_TILES_MAX_ZOOM", "20"))
TAAMIR_TILES_MAX_AGE = int(os.environ.get("TAAMIR_TILES_MAX_AGE", "60"))
# Where built tiles are kept: "database" (the tiles_tile table) or "none" (build every request).
TAAMIR_TILES_CACHE = os.environ.get("TAAMIR_TILES_CACHE", "database")
# Live events (/geo/events): a comment line keeps idle streams open; a stream ends after this many
# seconds and the browser reconnects by itself (frees WSGI threads, picks up new code after deploys).
TAAMIR_EVENTS_HEARTBEAT_SECONDS = float(os.environ.get("TAAMIR_EVENTS_HEARTBEAT_SECONDS", "15"))
TAAMIR_EVENTS_MAX_SECONDS = float(os.environ.get("TAAMIR_EVENTS_MAX_SECONDS", "300"))

# WFS 2.0 (/wfs, django-gisserver) and OGC API - Features (/ogcapi/): page sizes and service metadata.
# A GetFeature without COUNT returns at most this many GML features (GeoJSON and CSV stream every match).
TAAMIR_WFS_MAX_PAGE_SIZE = int(os.environ.get("TAAMIR_WFS_MAX_PAGE_SIZE", "50000"))
GISSERVER_DEFAULT_MAX_PAGE_SIZE = TAAMIR_WFS_MAX_PAGE_SIZE
# The capabilities list each feature type's WGS84 extent (one aggregate per layer).
GISSERVER_CAPABILITIES_BOUNDING_BOX = env_bool("TAAMIR_WFS_CAPABILITIES_BBOX", True)
# OGC API - Features: items pages default to this many features and never exceed the maximum.
TAAMIR_OGC_DEFAULT_LIMIT = int(os.environ.get("TAAMIR_OGC_DEFAULT_LIMIT", "100"))
TAAMIR_OGC_MAX_LIMIT = int(os.environ.get("TAAMIR_OGC_MAX_LIMIT", "10000"))
TAAMIR_OGC_PROVIDER = os.environ.get("TAAMIR_OGC_PROVIDER", "Taamir")

# --- Exports and open data (issue 8) ---
# Layer exports: rows are read and written in batches of this size (memory grows with it, not with the layer);
# downloads are built in this folder (default: the system's temporary folder) and removed once opened.
TAAMIR_EXPORT_BATCH_SIZE = int(os.environ.get("TAAMIR_EXPORT_BATCH_SIZE", "20000"))
TAAMIR_EXPORT_TMP_DIR = os.environ.get("TAAMIR_EXPORT_TMP_DIR", "")
# Open data (/open-data/, DCAT, CKAN API): the licence of every dataset (etalab-2.0, ODbL-1.0 or CC-BY-4.0)
# and the publisher named in the catalogue.
TAAMIR_OPEN_DATA_LICENCE = os.environ.get("TAAMIR_OPEN_DATA_LICENCE", "etalab-2.0")
TAAMIR_OPEN_DATA_PUBLISHER = os.environ.get("TAAMIR_OPEN_DATA_PUBLISHER", "Taamir")
# seed_demo files this many past dossiers (six months, through the workflow) so the open-data page has a
# history to chart; a few seconds each, mostly the signed decision PDFs. 0 skips the history.
TAAMIR_DEMO_HISTORY_DOSSIERS = int(os.environ.get("TAAMIR_DEMO_HISTORY_DOSSIERS", "60"))
