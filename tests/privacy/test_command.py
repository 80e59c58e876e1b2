"""`manage.py person_data export|erase`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from core.models import AuditEntry
from tests.privacy.conftest import ANN

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("person_data", *args, stdout=out)
    return out.getvalue()


def test_export_to_stdout_is_the_json(people):
    export = json.loads(_run("export", "--email", "ANN@example.org"))
    assert export["person"]["email"] == ANN
    assert export["summary"]["total"] == 34
    entry = AuditEntry.objects.get(action="person.exported")
    assert (entry.actor_label, entry.changes) == ("command", {"via": "command", "rows": 34})


def test_export_to_a_file_prints_counts(people, tmp_path):
    target = tmp_path / "ann.json"
    output = _run("export", "--email", ANN, "--out", str(target))
    assert json.loads(target.read_text())["summary"]["total"] == 34
    assert "  mentorship.checkin: 1\n" in output
    assert "  core.jobrun" not in output  # empty tables are not listed
    assert output.endswith(f"Exported 34 row(s) of {ANN} to {target}.\n")


def test_erase_without_yes_and_without_a_terminal_refuses(people):
    with pytest.raises(CommandError, match="pass --yes"):
        _run("erase", "--email", ANN, "--reason", "Request #12")
    assert User.objects.get(pk=people["ann"].pk).email == ANN


def test_erase_with_yes(people):
    ann = people["ann"]
    output = _run("erase", "--email", ANN, "--reason", "Request #12", "--yes")
    erased = f"erased-{ann.pk}@invalid"
    assert User.objects.get(pk=ann.pk).email == erased
    assert f"Erasing the personal data of {ANN} ...\n" in output
    assert "  deleted accounts.apitoken: 1\n" in output
    assert "  rewritten crm_sync.outboxevent: 2\n" in output
    entry = AuditEntry.objects.get(action="person.erased")
    assert (entry.actor_id, entry.actor_label, entry.reason) == (None, "command", "Request #12")
    assert f"the account is now {erased} (" in output
    # again: fine, and said so
    output = _run("erase", "--email", erased, "--reason", "Request #12", "--yes")
    assert "already erased before" in output


def test_erase_refusals_are_command_errors(people, superuser):
    with pytest.raises(CommandError, match="superuser"):
        _run("erase", "--email", superuser.email, "--reason", "Request", "--yes")
    with pytest.raises(CommandError, match="reason: Say why"):
        _run("erase", "--email", ANN, "--reason", "  ", "--yes")
    with pytest.raises(CommandError, match="No person with the e-mail nobody@example.org"):
        _run("export", "--email", "nobody@example.org")
