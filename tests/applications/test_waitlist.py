"""The waiting list: when an accepted applicant declines, their enrollment is dropped and the best
waitlisted applicant of the track (by corrected score) is offered the place with a deadline;
they take it (accepted and enrolled) or pass it on to the next."""

from datetime import date, timedelta

import pytest

from applications.models import Application, WaitlistOffer
from applications.services import decision_make, offer_respond, scores_recompute
from core.audit import audit_entries_for
from core.errors import Conflict
from crm_sync.models import OutboxEvent
from enrollments.models import Enrollment
from notifications.models import Notification
from scheduling.models import CohortMember
from scheduling.services import cohort_create
from tests.applications.conftest import configure

pytestmark = pytest.mark.django_db


def _me(program):
    return f"/api/v1/programs/{program.id}/applications/me"


@pytest.fixture
def round_one(scored, program, operator):
    """D (stage) accepted; C and E (stage) and A (screen) waitlisted; corrected scores C 23.8654,
    A 20.4247, E none."""
    apps, _ = scored
    scores_recompute(program=program)
    decision_make(application=apps["D"], decision="accepted", reason="Top", actor=operator)
    for name in "CEA":
        decision_make(application=apps[name], decision="waitlisted", reason="Next", actor=operator)
    return apps


def test_a_declined_place_goes_to_the_best_waitlisted_applicant_of_the_track(client_for, round_one, program, frozen):
    apps = round_one
    program = configure(program, offer_response_days=3)
    dee = apps["D"].applicant
    deadline = frozen.now + timedelta(days=3)

    response = client_for(dee).patch(_me(program), {"action": "withdraw", "reason": "Moving abroad"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["timeline"][-1]["event"] == "Place declined"
    assert Enrollment.objects.get(user=dee).status == "dropped"
    offer = WaitlistOffer.objects.get()
    assert (offer.application_id, offer.status, offer.expires_at, offer.cohort_id) == (
        apps["C"].id,
        "open",
        deadline,
        None,
    )
    carol = apps["C"].applicant
    assert sorted(
        Notification.objects.filter(user=carol, kind="application_waitlist_offer").values_list("channel", "dedupe_key")
    ) == [
        ("dashboard", f"application_waitlist_offer:{offer.id}:dashboard"),
        ("email", f"application_waitlist_offer:{offer.id}:email"),
    ]
    entry = audit_entries_for(apps["C"]).get(action="application.place_offered")
    assert entry.changes == {"expires_at": deadline.isoformat()}
    assert audit_entries_for(apps["D"]).get(action="application.declined").reason == "Moving abroad"
    mine = client_for(carol).get(_me(program)).json()
    assert mine["open_offer"] == {
        "id": str(offer.id),
        "status": "open",
        "expires_at": "2026-03-05T09:35:00Z",  # the fixture's clock stood at 09:35
        "responded_at": None,
    }
    assert mine["timeline"][-1]["event"] == "Place offered"


def test_taking_the_offer_accepts_and_enrolls(client_for, round_one, program, frozen):
    apps = round_one
    client_for(apps["D"].applicant).patch(_me(program), {"action": "withdraw"}, format="json")
    carol = apps["C"].applicant
    frozen.advance(days=1)

    response = client_for(carol).patch(_me(program), {"action": "accept_offer"}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["decision_reason"], body["open_offer"]) == ("accepted", "took the offered place", None)
    offer = WaitlistOffer.objects.get()
    assert (offer.status, offer.responded_at) == ("accepted", frozen.now)
    enrollment = Enrollment.objects.get(user=carol)
    assert (enrollment.role, enrollment.status) == ("mentee", "active")
    assert Notification.objects.filter(user=carol, kind="application_accepted").count() == 2
    assert not Notification.objects.filter(user=carol, kind="enrollment_confirmed").exists()
    event = OutboxEvent.objects.filter(event_type="program_application_decision", subject_id=str(apps["C"].id))
    assert [e.payload["decision"] for e in event.order_by("occurred_at")] == ["waitlisted", "accepted"]
    nothing = client_for(carol).patch(_me(program), {"action": "accept_offer"}, format="json")
    assert (nothing.status_code, nothing.json()["detail"]) == (
        404,
        "There is no open offer of a place for this application.",
    )


def test_declining_the_offer_passes_it_to_the_next(client_for, round_one, program, frozen):
    apps = round_one
    client_for(apps["D"].applicant).patch(_me(program), {"action": "withdraw"}, format="json")

    response = client_for(apps["C"].applicant).patch(_me(program), {"action": "decline_offer"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "waitlisted"  # still on the list, not offered again
    offers = dict(WaitlistOffer.objects.values_list("application_id", "status"))
    assert offers == {apps["C"].id: "declined", apps["E"].id: "open"}
    assert audit_entries_for(apps["C"]).filter(action="application.offer_declined").count() == 1
    # E declines as well; A is of another track, so nobody is left to offer the place to.
    client_for(apps["E"].applicant).patch(_me(program), {"action": "decline_offer"}, format="json")
    assert WaitlistOffer.objects.filter(status="open").count() == 0
    assert not WaitlistOffer.objects.filter(application=apps["A"]).exists()


def test_an_expired_offer_cannot_be_taken(client_for, round_one, program, frozen):
    apps = round_one
    client_for(apps["D"].applicant).patch(_me(program), {"action": "withdraw"}, format="json")
    offer = WaitlistOffer.objects.get()
    frozen.advance(days=5)

    response = client_for(apps["C"].applicant).patch(_me(program), {"action": "accept_offer"}, format="json")

    assert (response.status_code, response.json()["detail"]) == (
        409,
        f"The offer expired at {offer.expires_at:%-d %b %Y, %H:%M} UTC.",
    )
    assert Application.objects.get(pk=apps["C"].pk).status == "waitlisted"
    with pytest.raises(Conflict):
        offer_respond(application=apps["C"], accept=True)


def test_a_waitlisted_applicant_leaving_with_an_offer_passes_it_on(client_for, round_one, program):
    apps = round_one
    client_for(apps["D"].applicant).patch(_me(program), {"action": "withdraw"}, format="json")

    left = client_for(apps["C"].applicant).patch(_me(program), {"action": "withdraw"}, format="json")

    assert left.json()["status"] == "withdrawn"
    assert dict(WaitlistOffer.objects.values_list("application_id", "status")) == {
        apps["C"].id: "declined",
        apps["E"].id: "open",
    }


def test_a_cohort_place_given_back_is_offered_with_the_cohort(client_for, scored, program, operator):
    apps, _ = scored
    cohort = cohort_create(
        program=program, name="Spring", starts_on=date(2026, 4, 1), ends_on=date(2026, 6, 30), capacity=1
    )
    decision_make(application=apps["D"], decision="accepted", reason="Top", cohort_id=cohort.id, actor=operator)
    decision_make(application=apps["C"], decision="waitlisted", reason="Next", actor=operator)

    client_for(apps["D"].applicant).patch(_me(program), {"action": "withdraw"}, format="json")

    assert CohortMember.objects.get(cohort=cohort).status == "dropped"
    assert WaitlistOffer.objects.get().cohort_id == cohort.id
    client_for(apps["C"].applicant).patch(_me(program), {"action": "accept_offer"}, format="json")
    member = CohortMember.objects.get(cohort=cohort, status="active")
    assert member.enrollment.user == apps["C"].applicant


def test_without_anyone_waitlisted_nobody_is_offered(client_for, scored, program, operator):
    apps, _ = scored
    decision_make(application=apps["B"], decision="accepted", reason="Top", actor=operator)

    client_for(apps["B"].applicant).patch(_me(program), {"action": "withdraw"}, format="json")

    assert not WaitlistOffer.objects.exists()
    assert Enrollment.objects.get(user=apps["B"].applicant).status == "dropped"
