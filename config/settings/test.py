"""Settings for the test suite: fast password hashing, in-memory mail outbox, debug off."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

# Serve static files from the finders (static_build/) without a collectstatic run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

TAAMIR_REQUIRE_STAFF_MFA = False
TAAMIR_SMS_BACKEND = "permits.sms.OutboxBackend"
# seed_demo's open-data history takes minutes; the open-data tests build their own (issue 8).
TAAMIR_DEMO_HISTORY_DOSSIERS = 0
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
# Job workers run inside tests; connections must not outlive a test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
# Live-event streams notice a closed browser at their next heartbeat: keep it short so that no stream
# (and its listening connection) outlives a browser test.
TAAMIR_EVENTS_HEARTBEAT_SECONDS = 0.5
# Most workflow tests issue permits without building a PKI; the production rule (a permit is issued by the
# signed decision) is switched on in tests/permits/test_decision_signature_guard.py.
TAAMIR_DECISION_REQUIRES_SIGNATURE = False
