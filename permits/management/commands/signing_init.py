"""``python manage.py signing_init``: the development PKI and one signing certificate per staff user.

Creates (once) a root CA, an intermediate CA, their CRLs and a timestamping certificate under
``TAAMIR_SIGNING_DIR``, then a password-protected PKCS#12 file for each staff user who has none.
Idempotent: running it again only adds the missing users' files (and refreshes CRLs close to expiry).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from permits.roles import STAFF_ROLES
from permits.signing_pki import pki_init


def staff_users(usernames: list[str] | None = None):
    users = get_user_model().objects.filter(is_active=True)
    if usernames:
        return list(users.filter(username__in=usernames).order_by("username"))
    return list(users.filter(groups__name__in=list(STAFF_ROLES)).distinct().order_by("username")) + list(
        users.filter(is_superuser=True).exclude(groups__name__in=list(STAFF_ROLES)).order_by("username")
    )


def organisation_unit(user) -> str:
    organisation = user.organisations.order_by("code").first()
    return organisation.name_fr if organisation else ""


class Command(BaseCommand):
    help = "Create the development signing PKI and a PKCS#12 signing certificate per staff user (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="*", help="only these accounts (default: every staff account)")

    def handle(self, *args, **options):
        if not settings.TAAMIR_SIGNING_DEV_PKI:
            raise CommandError("TAAMIR_SIGNING_DEV_PKI is off: production signers use their own PKCS#12 or PKCS#11.")
        users = staff_users(options["usernames"])
        summary = pki_init(users=users, unit_for=organisation_unit)
        self.stdout.write(
            f"{'created' if summary.created_ca else 'kept'} the development CA in {settings.TAAMIR_SIGNING_DIR}; "
            f"{len(summary.users_created)} signing certificate(s) created, {len(summary.users_kept)} kept"
        )
