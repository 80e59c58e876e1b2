"""Fixtures of the mentorship tests, built through the product's services."""

from __future__ import annotations

import pytest

from mentorship.services import profile_upsert


@pytest.fixture
def buddy_template(builtin_templates):
    return builtin_templates["buddy-standard"]


@pytest.fixture
def buddy_program(make_program, buddy_template):
    return make_program(buddy_template, name="Buddy 2026")


@pytest.fixture
def mentor_profile(make_user, program):
    """A mentor with a profile in `program` (defaults: capacity 1, speaks en and uk)."""

    def _make(email: str | None = None, *, in_program=None, **data):
        user = make_user(email=email)
        data.setdefault("languages", ["en", "uk"])
        data.setdefault("capacity", 1)
        profile, _ = profile_upsert(program=in_program or program, user=user, kind="mentor", data=data)
        return profile

    return _make


@pytest.fixture
def mentee_profile(make_user, program):
    """A mentee with a profile in `program` (default: speaks uk)."""

    def _make(email: str | None = None, *, in_program=None, **data):
        user = make_user(email=email)
        data.setdefault("languages", ["uk"])
        profile, _ = profile_upsert(program=in_program or program, user=user, kind="mentee", data=data)
        return profile

    return _make
