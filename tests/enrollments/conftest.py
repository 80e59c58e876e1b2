"""Fixtures of the enrollments tests, built through the product's services."""

from __future__ import annotations

import pytest

from programs.models import BeneficiaryGroup, Program
from programs.services import beneficiary_group_create


@pytest.fixture
def buddy_template(builtin_templates):
    return builtin_templates["buddy-standard"]


@pytest.fixture
def buddy_program(make_program, buddy_template) -> Program:
    return make_program(buddy_template, name="Buddy Berlin")


@pytest.fixture
def other_group(db) -> BeneficiaryGroup:
    return beneficiary_group_create(key="ukrainian-refugees", name="Ukrainian refugees", countries=["PL"])
