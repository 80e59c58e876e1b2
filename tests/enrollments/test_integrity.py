"""Integrity checks (source 002): data broken behind the services' back with queryset.update() is
reported by GET /api/v1/admin/integrity and `check_integrity`, and `--fix` repairs what it can."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEntry
from enrollments.models import Enrollment, JourneyFlags
from enrollments.services import enrollment_create
from programs.models import Campaign, Program

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/integrity"
CHECK_NAMES = [
    "enrollment_dual_write",
    "program_type_mismatch",
    "orphaned_campaign_reference",
    "role_not_in_template",
    "campaign_over_capacity",
    "journey_flags_stale",
]


@pytest.fixture
def world(make_user, program, buddy_program, campaign):
    """Three users, two programs, one campaign; everything consistent."""
    ann, ben, cat = (make_user(email=f"{name}@example.org") for name in ("ann", "ben", "cat"))
    return {
        "ann": ann,
        "ben": ben,
        "cat": cat,
        "ann_mentee": enrollment_create(user=ann, program=program, campaign=campaign, role="mentee"),
        "ben_mentee": enrollment_create(user=ben, program=program, campaign=campaign, role="mentee"),
        "cat_participant": enrollment_create(user=cat, program=buddy_program, role="participant"),
    }


def _report(client) -> dict:
    response = client.get(URL)
    assert response.status_code == 200, response.content
    return response.json()


def _checks(report: dict) -> dict[str, dict]:
    assert [c["name"] for c in report["checks"]] == CHECK_NAMES
    return {c["name"]: c for c in report["checks"]}


def _counts(report: dict) -> dict[str, int]:
    return {name: check["count"] for name, check in _checks(report).items()}


def _run(*args) -> str:
    out = StringIO()
    call_command("check_integrity", *args, stdout=out)
    return out.getvalue()


def _run_failing(*args) -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("check_integrity", *args, stdout=out)
    return out.getvalue(), str(excinfo.value)


def test_clean_database_reports_ok(operator_api, world):
    report = _report(operator_api)

    assert (report["ok"], report["problem_count"]) == (True, 0)
    checks = _checks(report)
    assert {name: (c["count"], c["problems"]) for name, c in checks.items()} == {name: (0, []) for name in CHECK_NAMES}
    assert {name: c["fixable"] for name, c in checks.items()} == {
        "enrollment_dual_write": True,
        "program_type_mismatch": True,
        "orphaned_campaign_reference": False,
        "role_not_in_template": False,
        "campaign_over_capacity": False,
        "journey_flags_stale": True,
    }


def test_clean_database_command_prints_no_problems(world):
    out = _run()

    assert out.splitlines()[-1] == "No integrity problems."
    for name in CHECK_NAMES:
        assert f"[ok  ] {name}: 0 - " in out
    assert "[FAIL]" not in out


def test_dual_write_program_type_mismatch(operator_api, world, program):
    ann_mentee = world["ann_mentee"]
    Enrollment.objects.filter(pk=ann_mentee.pk).update(program_type="buddy")

    report = _report(operator_api)

    assert (report["ok"], report["problem_count"]) == (False, 2)
    checks = _checks(report)
    assert checks["enrollment_dual_write"]["count"] == 1
    assert checks["enrollment_dual_write"]["problems"] == [
        {
            "enrollment_id": str(ann_mentee.id),
            "program_id": str(program.id),
            "detail": f"enrollment has buddy/{program.beneficiary_group_id}, "
            f"program has mentorship/{program.beneficiary_group_id}",
        }
    ]
    # The flags stored for ann were derived from the type she really had.
    assert checks["journey_flags_stale"]["count"] == 1
    assert checks["journey_flags_stale"]["problems"] == [
        {"user_id": str(world["ann"].id), "detail": "flags out of date"}
    ]


def test_program_beneficiary_group_changed_behind_the_services_back(operator_api, world, buddy_program, other_group):
    old_group = buddy_program.beneficiary_group_id
    Program.objects.filter(pk=buddy_program.pk).update(beneficiary_group=other_group)

    report = _report(operator_api)

    assert _counts(report) == {**dict.fromkeys(CHECK_NAMES, 0), "enrollment_dual_write": 1}
    assert _checks(report)["enrollment_dual_write"]["problems"] == [
        {
            "enrollment_id": str(world["cat_participant"].id),
            "program_id": str(buddy_program.id),
            "detail": f"enrollment has buddy/{old_group}, program has buddy/{other_group.id}",
        }
    ]


def test_program_type_differs_from_its_template(operator_api, world, program):
    Program.objects.filter(pk=program.pk).update(program_type="language")

    report = _report(operator_api)

    counts = _counts(report)
    assert counts == {**dict.fromkeys(CHECK_NAMES, 0), "program_type_mismatch": 1, "enrollment_dual_write": 2}
    assert _checks(report)["program_type_mismatch"]["problems"] == [
        {"program_id": str(program.id), "detail": "program has language, template has mentorship"}
    ]
    assert {p["enrollment_id"] for p in _checks(report)["enrollment_dual_write"]["problems"]} == {
        str(world["ann_mentee"].id),
        str(world["ben_mentee"].id),
    }


def test_role_not_in_template(operator_api, world, program):
    ben_mentee = world["ben_mentee"]
    Enrollment.objects.filter(pk=ben_mentee.pk).update(role="captain")

    checks = _checks(_report(operator_api))

    assert checks["role_not_in_template"]["count"] == 1
    assert checks["role_not_in_template"]["problems"] == [
        {"enrollment_id": str(ben_mentee.id), "program_id": str(program.id), "detail": "role 'captain'"}
    ]


def test_enrollment_pointing_at_another_programs_campaign(operator_api, world, campaign):
    cat_participant = world["cat_participant"]
    Enrollment.objects.filter(pk=cat_participant.pk).update(campaign=campaign)

    checks = _checks(_report(operator_api))

    assert checks["orphaned_campaign_reference"]["count"] == 1
    assert checks["orphaned_campaign_reference"]["problems"] == [
        {
            "enrollment_id": str(cat_participant.id),
            "campaign_id": str(campaign.id),
            "detail": "campaign deploys another program",
        }
    ]


def test_campaign_over_capacity(operator_api, world, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(max_enrollment=1, target_enrollment=0)

    report = _report(operator_api)

    assert _counts(report) == {**dict.fromkeys(CHECK_NAMES, 0), "campaign_over_capacity": 1}
    assert _checks(report)["campaign_over_capacity"]["problems"] == [
        {"campaign_id": str(campaign.id), "detail": "2 enrollments, max 1"}
    ]


def test_stale_journey_flags(operator_api, world):
    JourneyFlags.objects.filter(user=world["cat"]).update(flags={"programs_count": 7})
    JourneyFlags.objects.filter(user=world["ann"]).delete()

    report = _report(operator_api)

    assert _counts(report) == {**dict.fromkeys(CHECK_NAMES, 0), "journey_flags_stale": 2}
    assert {p["user_id"] for p in _checks(report)["journey_flags_stale"]["problems"]} == {
        str(world["cat"].id),
        str(world["ann"].id),
    }


@pytest.fixture
def broken(world, make_user, buddy_program, campaign, other_group):
    """Every kind of damage at once, each on its own row."""
    Enrollment.objects.filter(pk=world["ann_mentee"].pk).update(program_type="buddy")  # dual-write (fixable)
    dave = make_user(email="dave@example.org")
    dave_buddy = enrollment_create(user=dave, program=buddy_program, role="buddy")
    Program.objects.filter(pk=buddy_program.pk).update(beneficiary_group=other_group)  # 2 dual-write (fixable)
    Enrollment.objects.filter(pk=world["ben_mentee"].pk).update(role="captain")  # role (unfixable)
    Enrollment.objects.filter(pk=dave_buddy.pk).update(campaign=campaign)  # orphan (unfixable)
    JourneyFlags.objects.filter(user=world["cat"]).update(flags={"programs_count": 7})  # stale (fixable)
    return {**world, "dave": dave, "dave_buddy": dave_buddy}


def test_command_reports_every_problem_and_exits_non_zero(broken):
    out, error = _run_failing()

    assert "[FAIL] enrollment_dual_write: 3 - " in out
    assert "[FAIL] role_not_in_template: 1 - Enrollment role is not a role of the program's template." in out
    assert "[FAIL] orphaned_campaign_reference: 1 - " in out
    assert "[FAIL] campaign_over_capacity: 0" not in out
    assert "[ok  ] campaign_over_capacity: 0 - " in out
    assert "[ok  ] program_type_mismatch: 0 - " in out
    # ben (captain), cat (tampered), ann (type changed); the orphaned campaign does not touch flags.
    assert "[FAIL] journey_flags_stale: 3 - " in out
    assert (
        f"enrollment_id={broken['ben_mentee'].id}, program_id={broken['ben_mentee'].program_id}: role 'captain'" in out
    )
    assert error == "8 integrity problem(s) remain (run with --fix to repair the fixable ones)."
    assert "No integrity problems." not in out


def test_single_dual_write_problem_is_printed_with_its_count(world, program):
    Enrollment.objects.filter(pk=world["ann_mentee"].pk).update(program_type="buddy")

    out, error = _run_failing()

    assert "[FAIL] enrollment_dual_write: 1 - Enrollment program_type or beneficiary group differs" in out
    assert f"enrollment_id={world['ann_mentee'].id}, program_id={program.id}: enrollment has buddy/" in out
    assert error == "2 integrity problem(s) remain (run with --fix to repair the fixable ones)."


def test_fix_repairs_dual_write_and_flags_but_fails_while_unfixable_problems_remain(broken, program, other_group):
    ann_flags_before = JourneyFlags.objects.get(user=broken["ann"]).flags

    out, error = _run_failing("--fix")

    assert "Repairing ..." in out
    assert "  repaired 3 enrollment dual write" in out
    assert "  repaired 0 program type" in out
    # ben (captain) and cat (tampered); ann's flags match again once her row is repaired.
    assert "  repaired 2 journey flags" in out
    assert "[ok  ] enrollment_dual_write: 0 - " in out
    assert "[ok  ] journey_flags_stale: 0 - " in out
    assert "[FAIL] role_not_in_template: 1 - " in out
    assert "[FAIL] orphaned_campaign_reference: 1 - " in out
    assert error == "2 integrity problem(s) remain."

    ann_mentee = Enrollment.objects.get(pk=broken["ann_mentee"].pk)
    assert (ann_mentee.program_type, ann_mentee.beneficiary_group_id) == ("mentorship", program.beneficiary_group_id)
    for key in ("cat_participant", "dave_buddy"):
        row = Enrollment.objects.get(pk=broken[key].pk)
        assert (row.program_type, row.beneficiary_group_id) == ("buddy", other_group.id)
    # The role and the campaign need a person's judgement: untouched.
    assert Enrollment.objects.get(pk=broken["ben_mentee"].pk).role == "captain"
    assert Enrollment.objects.get(pk=broken["dave_buddy"].pk).campaign_id == broken["ann_mentee"].campaign_id

    repaired = AuditEntry.objects.filter(action="integrity.dual_write_repaired")
    assert {(a.target_id, a.actor_label) for a in repaired} == {
        (str(broken["ann_mentee"].id), "system"),
        (str(broken["cat_participant"].id), "system"),
        (str(broken["dave_buddy"].id), "system"),
    }
    assert repaired.get(target_id=str(broken["ann_mentee"].id)).changes == {"program_type": ["buddy", "mentorship"]}
    old_group = str(program.beneficiary_group_id)
    assert repaired.get(target_id=str(broken["cat_participant"].id)).changes == {
        "beneficiary_group": [old_group, str(other_group.id)]
    }
    # ann's flags were never wrong (only her row was), so they are back to what they were.
    assert JourneyFlags.objects.get(user=broken["ann"]).flags == ann_flags_before
    assert JourneyFlags.objects.get(user=broken["cat"]).flags["is_buddy_participant"] is True
    assert JourneyFlags.objects.get(user=broken["ben"]).flags["is_mentorship_captain"] is True

    # Nothing fixable is left: a second --fix repairs nothing and still fails on the same two.
    out, error = _run_failing("--fix")
    assert "  repaired 0 enrollment dual write" in out
    assert "  repaired 0 journey flags" in out
    assert error == "2 integrity problem(s) remain."


def test_fix_repairs_a_program_type_before_its_enrollments(world, program):
    Program.objects.filter(pk=program.pk).update(program_type="language")

    out = _run("--fix")

    assert "  repaired 1 program type" in out
    assert "  repaired 0 enrollment dual write" in out
    assert out.splitlines()[-1] == "No integrity problems."
    assert Program.objects.get(pk=program.pk).program_type == "mentorship"
    [audit] = AuditEntry.objects.filter(action="integrity.program_type_repaired")
    assert (audit.target_id, audit.changes) == (str(program.id), {"program_type": ["language", "mentorship"]})


def test_fix_with_only_fixable_problems_exits_normally(world, buddy_program, other_group):
    Program.objects.filter(pk=buddy_program.pk).update(beneficiary_group=other_group)
    JourneyFlags.objects.filter(user=world["ann"]).update(flags={})

    out = _run("--fix")

    assert "  repaired 1 enrollment dual write" in out
    assert "  repaired 1 journey flags" in out
    assert out.splitlines()[-1] == "No integrity problems."
    assert Enrollment.objects.get(pk=world["cat_participant"].pk).beneficiary_group_id == other_group.id
    assert _run().splitlines()[-1] == "No integrity problems."


def test_api_fix(operator_api, operator, broken):
    response = operator_api.post(f"{URL}/fix")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fixed"] == {"program_type": 0, "enrollment_dual_write": 3, "journey_flags": 2}
    assert (body["report"]["ok"], body["report"]["problem_count"]) == (False, 2)
    assert _counts(body["report"]) == {
        **dict.fromkeys(CHECK_NAMES, 0),
        "role_not_in_template": 1,
        "orphaned_campaign_reference": 1,
    }
    repaired = AuditEntry.objects.filter(action="integrity.dual_write_repaired")
    assert repaired.count() == 3
    assert set(repaired.values_list("actor_id", flat=True)) == {operator.id}
    assert _counts(_report(operator_api)) == _counts(body["report"])


def test_integrity_endpoints_need_operator_or_integrator(writer_api, anon_api, integrator_api, world):
    assert writer_api.get(URL).status_code == 403
    assert writer_api.post(f"{URL}/fix").status_code == 403
    assert anon_api.get(URL).status_code == 401
    assert integrator_api.get(URL).json()["ok"] is True


def test_tampered_flags_of_a_user_without_enrollments(operator_api, world, make_user):
    loner = make_user(email="loner@example.org")
    JourneyFlags.objects.create(user=loner, flags={"is_buddy_buddy": True, "programs_count": 1})

    checks = _checks(_report(operator_api))
    assert checks["journey_flags_stale"]["count"] == 1
    assert checks["journey_flags_stale"]["problems"] == [{"user_id": str(loner.id), "detail": "flags out of date"}]

    out = _run("--fix")

    assert "  repaired 1 journey flags" in out
    assert out.splitlines()[-1] == "No integrity problems."
    assert JourneyFlags.objects.get(user=loner).flags == {
        "programs_count": 0,
        "active_program_types": [],
        "active_enrollments_count": 0,
        "completed_enrollments_count": 0,
        "dropped_enrollments_count": 0,
    }
