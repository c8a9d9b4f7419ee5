"""Template boxes of plan review on the dossier pages: the pre-checks of the latest plan version.

The tag gathers its own data so the dossier views stay as they are; it shows nothing while the dossier
has no ready plan version with a footprint.
"""

from __future__ import annotations

from django import template

from plans.prechecks import latest_checked_version, prechecks_for_version

register = template.Library()


@register.inclusion_tag("plans/_prechecks_box.html", takes_context=True)
def plan_prechecks_box(context, dossier) -> dict:
    """The pre-checks of the dossier's latest ready plan version with footprints, with a link to the viewer."""
    version = latest_checked_version(dossier=dossier)
    checks = prechecks_for_version(version=version) if version is not None else []
    return {
        "request": context.get("request"),
        "shown": version is not None,
        "version": version,
        "prechecks": checks,
        "failed": sum(1 for check in checks if check.passed is False),
    }
