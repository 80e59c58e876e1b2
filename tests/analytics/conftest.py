"""Fixtures shared by the analytics tests."""

from __future__ import annotations

import pytest

from tests.analytics.test_partner import partner_dataset


@pytest.fixture
def partner_data(program, make_program, mentorship_template, company, make_user):
    """Two companies' campaigns in two programs (see `partner_dataset`)."""
    return partner_dataset(
        program=program,
        make_program=make_program,
        mentorship_template=mentorship_template,
        company=company,
        make_user=make_user,
    )
