from datetime import timedelta

from coaching.models import Pursuit
from coaching.selectors import game_plan
from coaching.services import pursuit_confirm, pursuit_create_external
from core import clock


def test_external_pursuit_flow(make_user, django_assert_max_num_queries):
    user = make_user(email="w@example.org")
    now = clock.now()
    p = pursuit_create_external(
        user=user,
        data={"title": "Grant", "deadline": now + timedelta(days=30), "award_amount": "1000", "award_currency": "EUR",
              "trust_score": 0.5},
    )
    assert p.momentum_score == round(0.6 * 0.5 + 0.4 * 0.5, 4)
    with django_assert_max_num_queries(5):
        plan = game_plan(user, clock.now())
    assert [x.pk for x in plan["top"]] == [p.pk]
    pursuit_confirm(pursuit=p, user=user, state="submitted")
    pursuit_confirm(pursuit=p, user=user, state="won")
    plan = game_plan(user, clock.now())
    assert plan["total_won"] == [{"amount": 1000, "currency": "EUR"}]
    assert Pursuit.objects.get().momentum_score is None
