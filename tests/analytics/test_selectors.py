"""The families merged by `program_analytics`: no key is computed by two families, and running the
families side by side on their own connections (outside a transaction) gives exactly what running
them one after the other gives."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from analytics import selectors
from analytics.scope import Scope
from tests.analytics import build


@pytest.fixture
def data(program, make_program, mentorship_template, company, make_user):
    other = make_program(mentorship_template, name="Other program")
    return build(program=program, other_program=other, company=company, make_user=make_user)


@pytest.mark.django_db
def test_no_key_is_computed_twice(data):
    scope = Scope(program_ids=(data.program.pk,))
    seen: dict[str, str] = {}
    for module in selectors.metric_modules():
        for key in module.compute(scope):
            assert key not in seen, f"{key} from {module.__name__} and {seen[key]}"
            seen[key] = module.__name__
    assert len(seen) > 40


@pytest.mark.django_db
def test_inside_a_transaction_the_families_run_on_its_connection(data, monkeypatch):
    threads: set[int] = set()
    compute = selectors._compute_on_own_connection
    monkeypatch.setattr(selectors, "_compute_on_own_connection", lambda m, s: threads.add(1) or compute(m, s))
    assert connection.in_atomic_block
    values = selectors.program_analytics(Scope(program_ids=(data.program.pk,)))
    assert threads == set()
    assert values["enrollments_by_status"] == {"active": 2, "completed": 2, "dropped": 1}


@pytest.mark.django_db(transaction=True)
def test_side_by_side_gives_the_same_figures(data, monkeypatch, settings):
    scope = Scope(program_ids=(data.program.pk,), campaign_id=data.campaign.pk)
    settings.ANALYTICS_PARALLEL_CONNECTIONS = 1
    one_by_one = selectors.program_analytics(scope)
    settings.ANALYTICS_PARALLEL_CONNECTIONS = 2
    used: set[str] = set()
    compute = selectors._compute_on_own_connection

    def spy(module, scope):
        used.add(threading.current_thread().name)
        return compute(module, scope)

    monkeypatch.setattr(selectors, "_compute_on_own_connection", spy)
    side_by_side = selectors.program_analytics(scope)
    assert side_by_side == one_by_one
    assert len(used) == 2  # two worker threads, each on its own connection
    assert side_by_side["enrollments_by_status"] == {"active": 1, "completed": 1, "dropped": 1}
