"""API authentication that keeps the staff MFA rule: staff roles may not use a password alone.

A session carries the MFA the staff member passed at sign-in (``permits.middleware``); HTTP Basic
carries only a password, so with ``TAAMIR_REQUIRE_STAFF_MFA`` on it is refused for staff roles, who
use an API token issued by an administrator instead. Applicants, architects and planners' tools
(QGIS sends HTTP Basic) for non-staff accounts keep working.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed

from permits.roles import user_is_staff_role


class PasswordOnlyForNonStaffBasicAuthentication(BasicAuthentication):
    """HTTP Basic, refused for staff roles while staff must use a second factor."""

    def authenticate_credentials(self, userid, password, request=None):
        user, auth = super().authenticate_credentials(userid, password, request)
        if getattr(settings, "TAAMIR_REQUIRE_STAFF_MFA", False) and user_is_staff_role(user):
            raise AuthenticationFailed(_("Staff accounts cannot use a password alone on the API: use an API token."))
        return user, auth


class PasswordOnlyForNonStaffBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the class above in the OpenAPI schema as what it is on the wire: HTTP Basic."""

    target_class = PasswordOnlyForNonStaffBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "Accounts without a staff role; staff use an API token (Authorization: Token …).",
        }
