"""Outcome services: one outcome, a list all or nothing, the rules on enrollment, date and money,
and their audit rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core import clock
from core.errors import ValidationFailed
from core.models import AuditEntry
from enrollments.models import Outcome
from enrollments.services import OUTCOMES_PER_REQUEST, enrollment_create, outcome_record, outcomes_record_many

pytestmark = pytest.mark.django_db

FROZEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: FROZEN)


@pytest.fixture
def ada(make_user, program):
    return enrollment_create(user=make_user(email="ada@example.org"), program=program, role="mentee")


@pytest.fixture
def alan(make_user, program):
    return enrollment_create(user=make_user(email="alan@example.org"), program=program, role="mentee")


@pytest.fixture
def foreign(make_user, buddy_program):
    return enrollment_create(user=make_user(email="bob@example.org"), program=buddy_program, role="buddy")


def test_record_one_outcome_with_its_audit_row(program, ada, operator):
    outcome = outcome_record(
        program=program,
        enrollment=ada,
        outcome_type="funded",
        occurred_on=date(2026, 2, 27),
        amount=Decimal("2500.50"),
        currency="eur",
        evidence_url="https://example.org/grant",
        notes="Seed grant",
        actor=operator,
    )
    outcome.refresh_from_db()
    assert (
        outcome.program_id,
        outcome.enrollment_id,
        outcome.outcome_type,
        outcome.occurred_on,
        outcome.amount,
        outcome.currency,
        outcome.evidence_url,
        outcome.notes,
        outcome.recorded_by_id,
    ) == (
        program.pk,
        ada.pk,
        "funded",
        date(2026, 2, 27),
        Decimal("2500.50"),
        "EUR",
        "https://example.org/grant",
        "Seed grant",
        operator.pk,
    )
    entry = AuditEntry.objects.get(target_id=str(outcome.pk))
    assert (entry.action, entry.actor_id) == ("outcome.recorded", operator.pk)
    assert entry.changes == {
        "enrollment": str(ada.pk),
        "user": str(ada.user_id),
        "outcome_type": "funded",
        "occurred_on": "2026-02-27",
        "amount": "2500.50",
        "currency": "EUR",
    }


def test_an_outcome_without_money_and_without_an_actor(program, ada):
    outcome = outcome_record(program=program, enrollment=ada, outcome_type="placed", occurred_on=date(2026, 3, 2))
    assert (outcome.amount, outcome.currency, outcome.recorded_by_id) == (None, "", None)
    assert AuditEntry.objects.get(target_id=str(outcome.pk)).actor_label == "system"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"amount": Decimal("10")}, {"currency": "An amount needs an ISO 4217 currency."}),
        ({"currency": "EUR"}, {"currency": "A currency goes with an amount."}),
        (
            {"amount": Decimal("10"), "currency": "EUX"},
            {"currency": "'EUX' is not an ISO 4217 currency code (e.g. EUR, USD)."},
        ),
        ({"amount": Decimal("-1"), "currency": "EUR"}, {"amount": "An amount cannot be negative."}),
        (
            {"amount": Decimal("1.005"), "currency": "EUR"},
            {"amount": "An amount has at most 12 digits before and 2 after the decimal point."},
        ),
        (
            {"occurred_on": date(2026, 3, 3)},
            {"occurred_on": "An outcome cannot lie in the future: today is 2026-03-02 in UTC."},
        ),
        (
            {"outcome_type": "famous"},
            {"outcome_type": "Use one of: completed, published, placed, funded, promoted, other."},
        ),
        (
            {"evidence_url": "ftp://example.org/x"},
            {"evidence_url": "Evidence is an http(s) URL of at most 500 characters."},
        ),
    ],
)
def test_rules_on_one_outcome(program, ada, fields, errors):
    values = {"outcome_type": "funded", "occurred_on": date(2026, 3, 1)} | fields
    with pytest.raises(ValidationFailed) as exc:
        outcome_record(program=program, enrollment=ada, **values)
    assert exc.value.errors == errors
    assert Outcome.objects.count() == 0


def test_the_enrollment_belongs_to_the_program(program, foreign):
    with pytest.raises(ValidationFailed) as exc:
        outcome_record(program=program, enrollment=foreign, outcome_type="placed", occurred_on=date(2026, 3, 1))
    assert exc.value.errors == {"enrollment_id": "This enrollment belongs to another program."}


def test_today_is_the_programs_date(make_program, mentorship_template, make_user):
    # 09:30 UTC on 2 March is 23:30 on 2 March at UTC+14 (Kiritimati): the 3rd has not begun there
    # either, while at UTC-10 (Honolulu) it is still 1 March.
    kiritimati = make_program(mentorship_template, name="Line Islands", timezone="Pacific/Kiritimati")
    honolulu = make_program(mentorship_template, name="Honolulu", timezone="Pacific/Honolulu")
    enrollment = enrollment_create(user=make_user(), program=kiritimati, role="mentee")
    outcome = outcome_record(
        program=kiritimati, enrollment=enrollment, outcome_type="placed", occurred_on=date(2026, 3, 2)
    )
    assert outcome.occurred_on == date(2026, 3, 2)
    late = enrollment_create(user=make_user(), program=honolulu, role="mentee")
    with pytest.raises(ValidationFailed) as exc:
        outcome_record(program=honolulu, enrollment=late, outcome_type="placed", occurred_on=date(2026, 3, 2))
    assert exc.value.errors == {
        "occurred_on": "An outcome cannot lie in the future: today is 2026-03-01 in Pacific/Honolulu."
    }
    with pytest.raises(ValidationFailed) as exc:
        outcome_record(program=kiritimati, enrollment=enrollment, outcome_type="placed", occurred_on=date(2026, 3, 3))
    assert exc.value.errors == {
        "occurred_on": "An outcome cannot lie in the future: today is 2026-03-02 in Pacific/Kiritimati."
    }


def test_record_many(program, ada, alan, operator):
    outcomes = outcomes_record_many(
        program=program,
        items=[
            {"enrollment_id": ada.pk, "outcome_type": "completed", "occurred_on": date(2026, 3, 1)},
            {
                "enrollment_id": str(alan.pk),
                "outcome_type": "placed",
                "occurred_on": date(2026, 2, 1),
                "amount": Decimal("42000"),
                "currency": "USD",
            },
        ],
        actor=operator,
    )
    assert [(o.enrollment_id, o.outcome_type, o.amount, o.currency) for o in outcomes] == [
        (ada.pk, "completed", None, ""),
        (alan.pk, "placed", Decimal("42000"), "USD"),
    ]
    assert Outcome.objects.count() == 2
    assert AuditEntry.objects.filter(action="outcome.recorded", actor=operator).count() == 2


def test_a_list_with_bad_items_records_none_and_names_each(program, ada, alan, foreign):
    audit_rows = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        outcomes_record_many(
            program=program,
            items=[
                {"enrollment_id": ada.pk, "outcome_type": "completed", "occurred_on": date(2026, 3, 1)},
                {"enrollment_id": alan.pk, "outcome_type": "funded", "occurred_on": date(2026, 3, 1), "amount": 5},
                {"enrollment_id": ada.pk, "outcome_type": "placed", "occurred_on": date(2026, 3, 1)},
                {"enrollment_id": foreign.pk, "outcome_type": "placed", "occurred_on": date(2026, 3, 1), "venue": "x"},
                {"enrollment_id": "not-a-uuid", "outcome_type": "placed", "occurred_on": "2026-03-01"},
            ],
        )
    assert exc.value.detail == "3 of 5 outcomes are invalid; none was recorded."
    assert exc.value.errors == {
        "items/1/currency": "An amount needs an ISO 4217 currency.",
        "items/3/enrollment_id": "This enrollment belongs to another program.",
        "items/3/venue": "Not a field of an outcome.",
        "items/4/enrollment_id": "No enrollment with the id not-a-uuid.",
        "items/4/occurred_on": "An outcome needs the date it occurred on.",
    }
    assert Outcome.objects.count() == 0
    assert AuditEntry.objects.count() == audit_rows


def test_a_list_is_neither_empty_nor_too_long(program, ada):
    with pytest.raises(ValidationFailed) as exc:
        outcomes_record_many(program=program, items=[])
    assert exc.value.errors == {"items": "Send at least one outcome."}
    item = {"enrollment_id": ada.pk, "outcome_type": "completed", "occurred_on": date(2026, 3, 1)}
    with pytest.raises(ValidationFailed) as exc:
        outcomes_record_many(program=program, items=[item] * (OUTCOMES_PER_REQUEST + 1))
    assert exc.value.errors == {"items": "At most 1000 outcomes per request."}
    assert Outcome.objects.count() == 0


def test_the_database_refuses_an_amount_without_a_currency(program, ada):
    with pytest.raises(IntegrityError), transaction.atomic():
        Outcome.objects.create(
            program=program, enrollment=ada, outcome_type="funded", occurred_on=date(2026, 3, 1), amount=Decimal("1")
        )
