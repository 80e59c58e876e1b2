"""Every link to the user table is described in the personal-data table (or named as a staff
member's link), so a new model with personal data cannot be left out of export and erasure."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model

from privacy.registry import ACTING_LINKS, REGISTRY, erased_email


def _user_links() -> set[str]:
    user = get_user_model()
    links = set()
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if f.is_relation and f.related_model is user and (f.concrete or f.many_to_many) and not f.auto_created:
                links.add(f"{model._meta.label}.{f.name}")
    return links


def test_every_link_to_a_person_is_described():
    described = {f"{e.model}.{lookup.split('__')[0]}" for e in REGISTRY for lookup in e.owners if lookup != "pk"}
    # An outcome is found through its enrollment's person.
    described.discard("enrollments.Outcome.enrollment")
    missing = _user_links() - described - ACTING_LINKS
    assert missing == set()
    assert described & ACTING_LINKS == set()
    assert described <= _user_links()


def test_every_entry_names_real_fields():
    for entry in REGISTRY:
        model = apps.get_model(entry.model)
        names = {f.name for f in model._meta.get_fields()}
        for field in (*entry.erase, *entry.mentions, *entry.personal):
            assert field in names, f"{entry.model}.{field}"
        assert not (entry.delete and entry.erase), entry.model
        assert entry.note, entry.model


def test_erased_address_is_stable_and_undeliverable():
    assert erased_email("0b0e") == "erased-0b0e@invalid"
