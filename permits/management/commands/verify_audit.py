"""``manage.py verify_audit``: walk the hash-chained audit trail and name the first broken record.

Exit status 0 and ``audit chain intact: N records`` when every link and hash holds; exit status 1 and
the id of the first broken record with the reason (modified, or a record before it removed or
reordered) otherwise. Removing the very last records cannot be seen from the chain alone.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from permits.audit import audit_verify


class Command(BaseCommand):
    help = "Check the hash chain of the audit trail; exit 1 naming the first broken record."

    def handle(self, *args, **options) -> None:
        verdict = audit_verify()
        if not verdict.intact:
            raise CommandError(
                f"audit chain broken at record {verdict.broken_id}: {verdict.reason}; "
                f"the {verdict.checked} records before it are intact",
                returncode=1,
            )
        self.stdout.write(f"audit chain intact: {verdict.checked} records")
