import pytest
from django.db import IntegrityError, transaction

from accounts.models import ExternalIdentity
from accounts.services import external_identity_link, user_create_or_update
from core.errors import Conflict, ValidationFailed

pytestmark = pytest.mark.django_db


def test_one_user_links_identities_of_several_partner_systems(make_user):
    user = make_user(email="csr@example.org")
    external_identity_link(user=user, provider="mentors", external_id="mentor-456")
    external_identity_link(user=user, provider="buddy", external_id="buddy-789")
    again = external_identity_link(user=user, provider="buddy", external_id="buddy-789")
    assert sorted(user.external_identities.values_list("provider", "external_id")) == [
        ("buddy", "buddy-789"),
        ("mentors", "mentor-456"),
    ]
    assert again.user_id == user.id


def test_a_partner_id_belongs_to_one_user(make_user):
    external_identity_link(user=make_user(), provider="buddy", external_id="buddy-1")
    with pytest.raises(Conflict, match="buddy:buddy-1 is already linked to another user."):
        external_identity_link(user=make_user(), provider="buddy", external_id="buddy-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalIdentity.objects.create(user=make_user(), provider="buddy", external_id="buddy-1")


def test_emails_are_unique_whatever_their_case(make_user):
    make_user(email="ada@example.org")
    user, created = user_create_or_update(email="ADA@Example.org", full_name="Ada")
    assert (created, user.email, user.full_name) == (False, "ada@example.org", "Ada")


def test_a_wrong_time_zone_is_refused():
    with pytest.raises(ValidationFailed) as excinfo:
        user_create_or_update(email="tz@example.org", timezone="Mars/Olympus")
    assert excinfo.value.errors == {"timezone": "'Mars/Olympus' is not an IANA time zone."}
