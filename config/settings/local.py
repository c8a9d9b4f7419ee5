"""Settings for a developer's machine and the demo: debug on unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)

# Serve static files from the finders (static_build/) without a collectstatic run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The demo accounts sign in without a second factor on a developer machine; production requires it.
TAAMIR_REQUIRE_STAFF_MFA = env_bool("TAAMIR_REQUIRE_STAFF_MFA", False)

# Demo e-mails are written as files under var/mail (one per message) instead of flooding the console;
# DJANGO_EMAIL_BACKEND chooses another backend (SMTP settings come from the environment).
import os  # noqa: E402

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = BASE_DIR / "var" / "mail"  # noqa: F405
