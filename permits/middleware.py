"""Multi-factor authentication for staff roles.

When ``TAAMIR_REQUIRE_STAFF_MFA`` is on, a signed-in user holding a staff role (desk, committee,
signatory, inspector, planner, administrator) who has no authenticator yet (TOTP app or security key)
is sent to allauth's authenticator-app setup page for every request, except that page itself, the
re-authentication it may ask for, signing out, static files and the language switch. Applicants and
architects are never forced; they may turn MFA on from their account.

Place it after ``AuthenticationMiddleware`` and allauth's ``AccountMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from permits.roles import user_is_staff_role

# Authenticators that are a second factor by themselves (recovery codes only back one up).
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)
# Pages a staff user without MFA may still reach (URL names).
EXEMPT_URL_NAMES = ("mfa_activate_totp", "account_reauthenticate", "account_logout", "set_language")


class StaffMfaRequiredMiddleware:
    """Redirect staff users without a second factor to the MFA setup page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._exempt_paths: tuple[str, ...] | None = None

    def exempt_paths(self) -> tuple[str, ...]:
        if self._exempt_paths is None:
            paths = [reverse(name) for name in EXEMPT_URL_NAMES]
            paths += [prefix for prefix in (settings.STATIC_URL, "/i18n/") if prefix]
            self._exempt_paths = tuple(paths)
        return self._exempt_paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.must_set_up_mfa(request):
            if request.path.startswith("/api/"):
                # An API client gets a problem document it can read, not a redirect to an HTML page.
                return JsonResponse(
                    {
                        "type": "urn:taamir:problem:mfa-required",
                        "title": _("Set up a second factor first."),
                        "status": 403,
                        "detail": _("Staff accounts must set up an authenticator app before using Taamir."),
                    },
                    status=403,
                    content_type="application/problem+json",
                )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)

    def must_set_up_mfa(self, request: HttpRequest) -> bool:
        if not getattr(settings, "TAAMIR_REQUIRE_STAFF_MFA", False):
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user_is_staff_role(user):
            return False
        if request.path.startswith(self.exempt_paths()):
            return False
        return not Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()
