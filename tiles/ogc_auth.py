"""Who is asking a geo-portal service (WFS, OGC API – Features, tiles): session, API token or HTTP Basic.

Desktop GIS clients cannot hold a session: QGIS, GDAL and OWSLib send HTTP Basic on every request, and
some can send a header. So, besides the browser's session, a request may carry:

- ``Authorization: Token <key>`` or ``Authorization: Bearer <key>``: the user's personal API token;
- ``Authorization: Basic <user:secret>`` where the secret is the user's API token — the way for staff,
  who must use a second factor and so may not sign in with a password alone (``TAAMIR_REQUIRE_STAFF_MFA``);
- ``Authorization: Basic <user:password>``: the account's password, for accounts without a staff role, or
  for every account when the MFA rule is off.

Wrong credentials are an error (401 with a Basic challenge), never a silent fall back to anonymous, so a
planner whose token was revoked sees why the internal layers vanished. No credentials at all is anonymous:
the public layers only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from permits.roles import user_is_staff_role

REALM = "Taamir geo-portal"


class CredentialsRefused(Exception):
    """The request carried credentials that do not open an account; the message says why."""


def _token_user(key: str, *, username: str | None = None):
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    if username is not None and token.user.get_username() != username:
        return None
    return token.user


def user_from_authorization(request: HttpRequest):
    """The user the ``Authorization`` header names, None when there is none; raises :class:`CredentialsRefused`."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return None
    scheme, _space, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme in ("token", "bearer"):
        user = _token_user(value) if value else None
        if user is None:
            raise CredentialsRefused(_("This API token is not valid."))
        return user
    if scheme != "basic":
        raise CredentialsRefused(_("Use HTTP Basic or an API token to sign in to the geo-portal services."))
    try:
        username, colon, secret = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise CredentialsRefused(_("The HTTP Basic credentials could not be read.")) from None
    if not colon or not username:
        raise CredentialsRefused(_("The HTTP Basic credentials could not be read."))
    # The personal API token in the password box: the way for staff, whose password alone is not enough.
    user = _token_user(secret, username=username)
    if user is not None:
        return user
    user = authenticate(request, username=username, password=secret)
    if user is None or not user.is_active:
        raise CredentialsRefused(_("Wrong user name, password or API token."))
    if getattr(settings, "TAAMIR_REQUIRE_STAFF_MFA", False) and user_is_staff_role(user):
        raise CredentialsRefused(
            _("Staff accounts cannot use a password alone: put your personal API token in the password box.")
        )
    return user


def resolve_user(request: HttpRequest) -> None:
    """Set ``request.user`` from the ``Authorization`` header, when there is one (else keep the session's).

    Raises :class:`CredentialsRefused` for credentials that are present but wrong.
    """
    user = user_from_authorization(request)
    if user is not None:
        request.user = user
    elif not hasattr(request, "user"):
        request.user = AnonymousUser()


def sign_in_or_challenge(request: HttpRequest) -> HttpResponse | None:
    """Resolve ``request.user`` (see :func:`resolve_user`); the 401 answer when the credentials are refused."""
    try:
        resolve_user(request)
    except CredentialsRefused as refused:
        return challenge(str(refused))
    return None


def with_portal_user(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A geo-portal view that accepts the same credentials as WFS and OGC API (session, token, Basic)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        refused = sign_in_or_challenge(request)
        return refused if refused is not None else view(request, *args, **kwargs)

    return wrapper


def challenge(message: str) -> HttpResponse:
    """The 401 answer to refused credentials: a Basic challenge clients show as a sign-in prompt."""
    response = HttpResponse(message, status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response
