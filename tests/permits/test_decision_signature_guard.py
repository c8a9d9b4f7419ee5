"""With the production rule switched on, a permit is issued only by the signing authority's signature.

The test settings lift the rule (most workflow tests build no PKI); here it is on, as in production: pressing
"issue" on an unsigned decision is refused with the reason, and signing the decision issues the permit.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from permits.issuing import decision_generate
from permits.models import Status
from permits.roles import Role
from permits.signing import signature_queue
from permits.workflow import TransitionRefused, dossier_transition
from tests.permits.signing_world import pki, pki_dir  # noqa: F401 - fixtures
from tests.permits.test_opinions import world  # noqa: F401 - the fixture
from tests.permits.test_signing import closed  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_an_unsigned_decision_cannot_issue_the_permit_and_signing_it_does(closed, users, settings):  # noqa: F811
    settings.TAAMIR_DECISION_REQUIRES_SIGNATURE = True
    dossier = dossier_transition(dossier=closed.dossier, action="prepare_decision", actor=users[Role.DESK_AGENT])
    decision = decision_generate(dossier=dossier, actor=users[Role.DESK_AGENT])
    with translation.override("en"), pytest.raises(TransitionRefused, match="must first be signed"):
        dossier_transition(dossier=dossier, action="issue", actor=users[Role.SIGNING_AUTHORITY])
    dossier.refresh_from_db()
    assert dossier.status == Status.DECISION_SIGNING

    signature_queue(document=decision, user=users[Role.SIGNING_AUTHORITY], password="")
    dossier.refresh_from_db()
    assert dossier.status == Status.ISSUED
