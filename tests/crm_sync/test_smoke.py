import json

import pytest
from standardwebhooks.webhooks import Webhook

from crm_sync.dispatcher import dispatch
from crm_sync.models import Delivery
from crm_sync.services import subscriber_create
from enrollments.services import enrollment_create


@pytest.mark.django_db(transaction=True)
def test_an_enrollment_reaches_a_webhook_signed(httpserver, make_user, program):
    subscriber = subscriber_create(name="CRM", url=httpserver.url_for("/hook"), event_types=["enrollment.created"])
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    enrollment = enrollment_create(user=make_user(), program=program, role="mentee")
    totals = dispatch(time_budget=5)
    assert totals == {"fanned_out": 1, "delivered": 1, "retrying": 0, "dead": 0}
    ((request, _),) = httpserver.log
    body = request.get_data()
    payload = Webhook(subscriber.secret).verify(body, dict(request.headers))
    envelope = json.loads(body)
    assert payload == envelope
    assert envelope["event_type"] == "enrollment.created"
    assert envelope["subject"] == {"type": "enrollment", "id": str(enrollment.id)}
    assert Delivery.objects.get().status == "succeeded"
