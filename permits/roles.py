"""The platform's roles, one Django group each, and the questions every permission check asks.

Roles are groups so an administrator grants them in the admin; committee members additionally
belong to an organisation (committee issue). Staff roles must use multi-factor authentication.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    ARCHITECT = "architect", _("Architect")
    DESK_AGENT = "desk_agent", _("Desk agent")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    COMMITTEE_PRESIDENT = "committee_president", _("Committee president")
    SIGNING_AUTHORITY = "signing_authority", _("Signing authority")
    INSPECTOR = "inspector", _("Inspector")
    PLANNER = "planner", _("Planner / analyst")
    ADMIN = "admin", _("Administrator")


# Roles that file dossiers and see only their own.
FILING_ROLES = frozenset({Role.APPLICANT, Role.ARCHITECT})
# Roles of the administration: they see every dossier of the platform and must use MFA.
STAFF_ROLES = frozenset(set(Role) - FILING_ROLES)


def user_roles(user) -> frozenset[str]:
    """The roles of a user (an administrator has every role)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.is_superuser:
        return frozenset(Role.values)
    cached = getattr(user, "_taamir_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._taamir_roles = cached
    return cached


def user_has_role(user, *roles: str) -> bool:
    """True when the user holds at least one of ``roles``."""
    return bool(user_roles(user) & set(roles))


def user_is_staff_role(user) -> bool:
    """True for desk agents, committee members, signatories, inspectors, planners and administrators."""
    return bool(user_roles(user) & STAFF_ROLES)
