"""Fixtures of the application tests: a form with tracks, a rubric, applicants and reviewers,
all made through the product's services."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from applications.models import Application
from applications.services import (
    application_form_publish,
    application_start,
    assignments_create,
    program_reviewer_add,
    review_submit,
    scoring_rubric_publish,
)
from core import clock
from programs.models import Program, ProgramTrack
from programs.services import program_update

FROZEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

FIELDS = [
    {"key": "name", "label": "Your name", "type": "short_text", "required": True},
    {"key": "email", "label": "Contact e-mail", "type": "email", "reviewer_visible": False},
    {"key": "statement", "label": "Why now?", "type": "long_text", "max_words": 50},
    {"key": "years", "label": "Years writing", "type": "number", "min": 0, "max": 50},
    {
        "key": "group",
        "label": "I apply as",
        "type": "single_choice",
        "required": True,
        "options": ["first", "returning"],
    },
]
TRACKS = [{"key": "screen", "name": "Screenwriting"}, {"key": "stage", "name": "Playwriting"}]
CRITERIA = [
    {"key": "craft", "label": "Craft", "weight": 2, "scale_min": 1, "scale_max": 5},
    {"key": "voice", "label": "Voice", "weight": 1, "scale_min": 1, "scale_max": 5},
    {"key": "fit", "label": "Fit", "weight": 1, "scale_min": 1, "scale_max": 5, "independent": True},
]

_seq = itertools.count(1)


class Clock:
    """The product's clock (core.clock.now), frozen and moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def frozen(monkeypatch) -> Clock:
    state = Clock(FROZEN)
    monkeypatch.setattr(clock, "now", state)
    return state


def configure(program: Program, **settings) -> Program:
    """Set the program's application settings (config overrides, validated by the template)."""
    overrides = dict(program.config_overrides)
    overrides["application"] = {**overrides.get("application", {}), **settings}
    return program_update(program=program, data={"config_overrides": overrides})


def answers_for(name: str, **extra) -> dict:
    return {"name": name, "email": f"{name.lower()}@mail.example", "years": 3, "group": "first", **extra}


@pytest.fixture
def form(program):
    return application_form_publish(program=program, fields=FIELDS, tracks=TRACKS)


@pytest.fixture
def tracks(form, program) -> dict[str, ProgramTrack]:
    return {t.key: t for t in ProgramTrack.objects.filter(program=program)}


@pytest.fixture
def rubric(form, program):
    return scoring_rubric_publish(program=program, criteria=CRITERIA)


@pytest.fixture
def applicant(make_user):
    def _make(email: str | None = None, **fields):
        return make_user(email=email or f"applicant{next(_seq)}@example.org", role="writer", **fields)

    return _make


@pytest.fixture
def apply(applicant, program, tracks):
    """Start (and by default submit) an application of a new applicant (or the given user)."""

    def _apply(
        user=None,
        *,
        submit: bool = True,
        track: str | None = "screen",
        answers: dict | None = None,
        in_program: Program | None = None,
        **kwargs,
    ) -> Application:
        user = user or applicant()
        return application_start(
            applicant=user,
            program=in_program or program,
            answers=answers if answers is not None else answers_for(user.email.split("@")[0].capitalize()),
            track=tracks[track] if track else None,
            submit=submit,
            **kwargs,
        )

    return _apply


@pytest.fixture
def reviewer(make_user, program):
    """A user with the reviewer role, on the program's review team unless `team=False`."""

    def _make(email: str | None = None, *, team: bool = True, tracks=None, company=None):
        user = make_user(
            email=email or f"reviewer{next(_seq)}@example.org", role="reviewer", company=company, is_staff=True
        )
        if team:
            program_reviewer_add(program=program, reviewer=user, tracks=tracks)
        return user

    return _make


# Scores (craft, voice) that give these totals under the rubric of conftest (craft counts twice,
# fit is independent): equal scores s give (s - 1) / 4 * 100.
TOTAL = {0: 1, 25: 2, 50: 3, 75: 4, 100: 5}


@pytest.fixture
def scored(apply, applicant, reviewer, program, rubric, frozen):
    """A, B (screen) and C, D (stage) reviewed by a harsh (0-50), a lenient (75-100) and a
    middling reviewer; E submitted, unreviewed. Means: D 62.5, B 50, C 50, A 37.5; corrected
    scores (once recomputed): B 84.0593, D 71.6506, C 23.8654, A 20.4247. C and E apply as
    "returning", the others as "first"."""
    apps = {}
    for name, track in (("A", "screen"), ("B", "screen"), ("C", "stage"), ("D", "stage"), ("E", "stage")):
        group = "returning" if name in "CE" else "first"
        apps[name] = apply(
            applicant(f"{name.lower()}@example.org"), track=track, answers=answers_for(name, group=group)
        )
        frozen.advance(minutes=1)
    harsh, lenient, middling = (
        reviewer("harsh@example.org"),
        reviewer("lenient@example.org"),
        reviewer("mid@example.org"),
    )
    plan = [
        ("A", harsh, 0, "reject"),
        ("D", harsh, 25, "waitlist"),
        ("B", harsh, 50, "accept"),
        ("A", lenient, 75, "accept"),
        ("D", lenient, 100, "accept"),
        ("C", lenient, 75, "accept"),
        ("B", middling, 50, "accept"),
        ("C", middling, 25, "reject"),
    ]
    assignments_create(program=program, pairs=[(apps[a].id, r.id) for a, r, _, _ in plan])
    for name, who, total, recommendation in plan:
        s = TOTAL[total]
        review_submit(
            application=apps[name],
            reviewer=who,
            scores={"craft": s, "voice": s, "fit": 5 - s + 1},
            recommendation=recommendation,
        )
    for application in apps.values():
        application.refresh_from_db()
    return apps, (harsh, lenient, middling)
