"""Production settings: secrets are required from the environment, cookies are secure.

Stateless app servers: sessions in the database, files through ``TAAMIR_FILE_STORAGE`` (for example
``storages.backends.s3.S3Storage`` with django-storages), static files served by WhiteNoise.
"""

import os

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Signers use their own PKCS#12 files or a PKCS#11 token (docs/signatures.md): never the development PKI,
# whose key passwords are derived from SECRET_KEY.
TAAMIR_SIGNING_DEV_PKI = False
