"""The operators' coach admin, as an operator (not a superuser): the pursuit list and its filters,
the trust score of an external pursuit set through `pursuit_update` (momentum follows, audited),
internal pursuits and everything else read-only, nothing added or deleted by hand except program
trust rows, whose 0-1 range is a field error."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.services import application_form_publish, application_start
from coaching.models import CheckInTask, CoachSettings, ProgramTrust, Pursuit
from coaching.services import pursuit_confirm, pursuit_create_external, snooze_set
from core import clock
from core.models import AuditEntry
from tests.applications.conftest import Clock

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def cells(html: str, column: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", unescape(c)).split())
        for c in re.findall(rf'<t[dh] class="field-{column}[^"]*">(.*?)</t[dh]>', html, re.S)
    ]


def errors(html: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", unescape(e)).split())
        for e in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
    ]


@pytest.fixture
def now(monkeypatch) -> Clock:
    state = Clock(T0)
    monkeypatch.setattr(clock, "now", state)
    return state


@pytest.fixture
def ops(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def kate(make_user, now):
    return make_user(email="kate@example.org", role="writer")


def external(user, title: str, days: float, trust: float | None = None) -> Pursuit:
    return pursuit_create_external(
        user=user, data={"title": title, "deadline": clock.now() + timedelta(days=days), "trust_score": trust}
    )


@pytest.fixture
def internal(kate, program):
    application_form_publish(
        program=program, fields=[{"key": "name", "label": "Your name", "type": "short_text", "required": True}]
    )
    application = application_start(applicant=kate, program=program, answers={"name": "Kate"})
    return Pursuit.objects.get(application=application)


def test_the_pursuit_list_and_its_filters(ops, kate, internal):
    external(kate, "Near grant", 10, 0.5)  # 0.70
    done = external(kate, "Sent", 20, 1.0)
    pursuit_confirm(pursuit=done, user=kate, state="submitted")
    html = ops.get(url(Pursuit, "changelist")).content.decode()
    # Highest momentum first; a pursuit without momentum last; the internal one has no deadline (0.32).
    assert cells(html, "title") == ["Near grant", "Mentorship 2026", "Sent"]
    assert cells(html, "user") == ["kate@example.org"] * 3
    assert cells(html, "coach_state") == ["Tracked", "Drafting", "Submitted"]
    assert cells(html, "momentum_score") == ["0.7", "0.32", "-"]
    assert cells(html, "origin") == ["External", "On this platform", "External"]
    assert cells(html, "deadline")[0] == "March 12, 2026, 9:30 a.m."

    external_only = ops.get(url(Pursuit, "changelist") + "?origin=external").content.decode()
    assert cells(external_only, "title") == ["Near grant", "Sent"]
    internal_only = ops.get(url(Pursuit, "changelist") + "?origin=internal").content.decode()
    assert cells(internal_only, "title") == ["Mentorship 2026"]
    submitted = ops.get(url(Pursuit, "changelist") + "?coach_state__exact=submitted").content.decode()
    assert cells(submitted, "title") == ["Sent"]
    no_deadline = ops.get(url(Pursuit, "changelist") + "?deadline=none").content.decode()
    assert cells(no_deadline, "title") == ["Mentorship 2026"]


def test_the_list_costs_a_constant_number_of_queries(ops, kate, make_user):
    external(kate, "One", 10)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert ops.get(url(Pursuit, "changelist")).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    for n in range(4):
        external(make_user(email=f"w{n}@example.org"), f"More {n}", 5 + n)
    assert count() == one


def test_an_operator_sets_the_trust_of_an_external_pursuit(ops, kate, operator, now):
    pursuit = external(kate, "Grant", 30, 0.5)  # 0.6 x 0.5 + 0.4 x 0.5 = 0.50
    now.advance(hours=1)
    html = ops.get(url(Pursuit, "change", pursuit.pk)).content.decode()
    assert 'name="trust_score"' in html and 'value="0.5"' in html
    assert "pursuit.created" in html  # the audit trail
    response = ops.post(url(Pursuit, "change", pursuit.pk), {"trust_score": "0.9", "_save": "Save"})
    assert response.status_code == 302, errors(response.content.decode())
    pursuit.refresh_from_db()
    # 29.958 days left: 0.6 x (1 - 29.9583 / 60) + 0.4 x 0.9 = 0.66042
    assert (pursuit.trust_score, pursuit.momentum_score) == (0.9, 0.6604)
    [entry] = AuditEntry.objects.filter(action="pursuit.updated", target_id=str(pursuit.pk))
    assert (entry.actor_id, entry.changes) == (operator.pk, {"trust_score": [0.5, 0.9]})
    assert pursuit.last_progress_at == T0  # not the person's progress

    # Cleared: the default for external opportunities.
    ops.post(url(Pursuit, "change", pursuit.pk), {"trust_score": "", "_save": "Save"})
    pursuit.refresh_from_db()
    assert (pursuit.trust_score, pursuit.momentum_score) == (None, 0.5004)


@pytest.mark.parametrize(
    ("value", "message"), [("1.5", "A number from 0 to 1."), ("-1", "A number from 0 to 1."), ("x", "Enter a number.")]
)
def test_a_trust_out_of_range_is_a_field_error(ops, kate, value, message):
    pursuit = external(kate, "Grant", 30, 0.5)
    response = ops.post(url(Pursuit, "change", pursuit.pk), {"trust_score": value, "_save": "Save"})
    assert response.status_code == 200
    assert errors(response.content.decode()) == [message]
    pursuit.refresh_from_db()
    assert (pursuit.trust_score, pursuit.momentum_score) == (0.5, 0.5)


def test_an_internal_pursuit_is_read_only(ops, internal):
    html = ops.get(url(Pursuit, "change", internal.pk)).content.decode()
    assert 'name="trust_score"' not in html
    assert "On this platform" in html
    response = ops.post(url(Pursuit, "change", internal.pk), {"trust_score": "0.1", "_save": "Save"})
    assert response.status_code == 302
    internal.refresh_from_db()
    assert (internal.trust_score, internal.momentum_score) == (None, 0.32)
    assert not AuditEntry.objects.filter(action="pursuit.updated").exists()


def test_pursuits_are_never_added_or_deleted_by_hand(ops, kate):
    pursuit = external(kate, "Grant", 30, 0.5)
    assert ops.get(url(Pursuit, "add")).status_code == 403
    assert ops.post(url(Pursuit, "delete", pursuit.pk), {"post": "yes"}).status_code == 403
    html = ops.get(url(Pursuit, "changelist")).content.decode()
    assert "delete_selected" not in html
    assert Pursuit.objects.count() == 1


def test_check_ins_and_settings_are_read_only(ops, kate, now):
    pursuit = external(kate, "Grant", 30, 0.5)
    pursuit = pursuit_confirm(pursuit=pursuit, user=kate, state="submitted")
    task = CheckInTask.objects.create(pursuit=pursuit, user=kate, due_at=pursuit.submitted_at + timedelta(days=21))
    snooze_set(user=kate, until=T0 + timedelta(days=2))
    settings_row = CoachSettings.objects.get()

    html = ops.get(url(CheckInTask, "changelist")).content.decode()
    assert cells(html, "pursuit_title") == ["Grant"]
    assert cells(html, "status") == ["Pending"]
    assert ops.get(url(CheckInTask, "change", task.pk)).status_code == 200
    assert ops.post(url(CheckInTask, "change", task.pk), {"status": "dismissed"}).status_code == 403
    assert ops.get(url(CheckInTask, "add")).status_code == 403

    html = ops.get(url(CoachSettings, "changelist")).content.decode()
    assert cells(html, "snoozed_until") == ["March 4, 2026, 9:30 a.m."]
    assert ops.post(url(CoachSettings, "change", settings_row.pk), {"snoozed_until": ""}).status_code == 403
    task.refresh_from_db()
    settings_row.refresh_from_db()
    assert (task.status, settings_row.snoozed_until) == ("pending", T0 + timedelta(days=2))


def test_program_trust(ops, program, make_program, mentorship_template):
    response = ops.post(url(ProgramTrust, "add"), {"program": program.pk, "trust_score": "0.95", "_save": "Save"})
    assert response.status_code == 302
    assert list(ProgramTrust.objects.values_list("program_id", "trust_score")) == [(program.pk, 0.95)]

    other = make_program(mentorship_template, name="Residency 2026")
    for value, message in (("1.2", "A number from 0 to 1."), ("-0.1", "A number from 0 to 1.")):
        response = ops.post(url(ProgramTrust, "add"), {"program": other.pk, "trust_score": value, "_save": "Save"})
        assert response.status_code == 200
        assert errors(response.content.decode()) == [message]
    response = ops.post(url(ProgramTrust, "add"), {"program": program.pk, "trust_score": "0.5", "_save": "Save"})
    assert errors(response.content.decode()) == ["Program trust with this Program already exists."]

    row = ProgramTrust.objects.get()
    response = ops.post(url(ProgramTrust, "change", row.pk), {"program": program.pk, "trust_score": "0.6"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.trust_score == 0.6
    assert ops.post(url(ProgramTrust, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert ProgramTrust.objects.count() == 1
