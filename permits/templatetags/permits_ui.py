"""Template helpers of the portal and the desk: the user's roles for the navigation, file sizes, statuses."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from permits.models import Status
from permits.roles import FILING_ROLES, Role, user_has_role, user_is_staff_role

register = template.Library()


@register.simple_tag
def navigation_for(user) -> dict[str, bool]:
    """Which entries of the site navigation this user gets."""
    return {
        "files": user_has_role(user, *FILING_ROLES),
        "desk": user_has_role(user, Role.DESK_AGENT),
        "committee": user_has_role(
            user, Role.COMMITTEE_MEMBER, Role.COMMITTEE_PRESIDENT, Role.DESK_AGENT, Role.SIGNING_AUTHORITY
        ),
        "staff": user_is_staff_role(user),
    }


@register.filter
def filesize(value: int | None) -> str:
    """A size in bytes for people: ``"812 KB"``, ``"3.4 MB"``."""
    if value is None:
        return ""
    if value < 1024:
        return _("%(value)s bytes") % {"value": value}
    if value < 1024 * 1024:
        return _("%(value)s KB") % {"value": round(value / 1024)}
    return _("%(value)s MB") % {"value": f"{value / 1024 / 1024:.1f}"}


@register.filter
def status_label(value: str) -> str:
    """The translated label of a dossier status code."""
    try:
        return str(Status(value).label)
    except ValueError:
        return value
