"""The runbook, the operators' handbook and the API guide name only commands, URLs, admin pages,
jobs and settings that exist: each reference is resolved against the product."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.urls import Resolver404, resolve

from core.jobs import job_registry

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["docs/runbook.md", "docs/operators/handbook.md", "docs/api.md"]

# `/api/v1/...` or `/admin/...` paths, up to a space, quote, backtick or closing bracket.
PATH = re.compile(r"(?<![\w.])(/(?:api/v1|admin)/[^\s`'\")\]]*)")
COMMAND = re.compile(r"manage\.py ([a-z_]+)")
JOB = re.compile(
    r"run_job ([a-z_]+)|\"job\": \"([a-z_]+)\"|`job: ([a-z_]+)`|`([a-z]+_[a-z_]+)` job|job `([a-z]+_[a-z_]+)`"
)
SETTING = re.compile(r"`([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)`")
ENVIRONMENT_ONLY = {"DATABASE_URL", "CACHE_URL", "EMAIL_URL", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "VAR_DIR"}
ENVIRONMENT_ONLY |= {"ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "JITSI_BASE_URL"}
SOME_ID = str(uuid.UUID(int=1))


def _concrete(path: str) -> str | None:
    """The path with placeholders filled in, or None when it is abbreviated (`...`)."""
    if "..." in path or "…" in path:
        return None
    path = path.split("?")[0].split("[")[0].rstrip(".,;:")
    if path == "/api/v1/":  # the base path itself
        return None
    return re.sub(r"\{[a-z_]+\}|\$[A-Z_]+|<uuid:[a-z_]+>", SOME_ID, path)


def _resolves(path: str) -> bool:
    """A real page: not the admin's catch-all, and not a change page whose "object id" is a word
    of the path (`/admin/app/model/<word>/` matches the change view of any model)."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if match.url_name is None or "catch_all" in getattr(match.func, "__name__", ""):
        return False
    if match.kwargs.get("object_id", SOME_ID) != SOME_ID:
        return False
    return True


def references(pattern: re.Pattern) -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for match in pattern.finditer((ROOT / doc).read_text()):
            value = next(group for group in match.groups() if group)
            found.append((doc, value))
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_the_document_exists(doc):
    assert (ROOT / doc).is_file()


def test_every_path_resolves():
    unresolved = []
    checked = 0
    for doc, raw in references(PATH):
        path = _concrete(raw)
        if path is None:
            continue
        checked += 1
        if not _resolves(path):
            unresolved.append((doc, raw))
    assert unresolved == [], "\n".join(f"{d}: {p}" for d, p in unresolved)
    assert checked > 50


def test_every_command_exists():
    commands = get_commands()
    missing = [(doc, name) for doc, name in references(COMMAND) if name not in commands]
    assert missing == []


def test_every_job_exists():
    jobs = job_registry()
    named = references(JOB)
    assert [(doc, name) for doc, name in named if name not in jobs] == []
    assert len(named) > 10


def test_every_setting_exists():
    named = [(doc, name) for doc, name in references(SETTING) if name not in ENVIRONMENT_ONLY]
    assert [(doc, name) for doc, name in named if not hasattr(settings, name)] == []
