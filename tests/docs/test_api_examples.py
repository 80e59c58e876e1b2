"""The curl examples of docs/api.md, executed against a live server.

Every fenced ```bash block of the guide that follows a marker comment

    <!-- example: NAME role=ROLE [sets=VAR:field] [header=Name:value] [expect=field:value] -->

is run in document order by `bash` with the real `curl`, against the live server of the test
(a transactional database, so the server's thread sees the rows the fixture wrote). `$BASE` is the
server's address and `$TOKEN` a token of the role the marker names (`anonymous`: no token);
`$PROGRAM_ID` is an open program with an application form. The block's `# -> STATUS` comment is the
status the response must have, and its body must be JSON (problem details for errors); `header=`
names a response header and its value, `expect=` a field of the body and its value (`$VAR`: a
variable set before). `sets=` keeps a field of the response as a variable for the examples that
follow (the operator reads the application the applicant created; the retry answers its id).
`role=shell` blocks are management commands: they run with the project's Python against the test
database, and the `$TOKEN` they set must authenticate.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from accounts.services import api_token_issue
from applications.services import application_form_publish

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "api.md"

MARKER = re.compile(r"<!--\s*example:\s*(?P<name>[\w-]+)(?P<attrs>[^>]*?)\s*-->\s*\n```bash\n(?P<code>.*?)\n```", re.S)
STATUS = re.compile(r"#\s*->\s*(?P<status>\d{3})\b")

# The names the guide must keep: one per main flow (a renamed or lost example fails here).
EXPECTED = [
    "get-token",
    "who-am-i",
    "list-programs",
    "next-page",
    "application-form",
    "create-application",
    "idempotent-retry",
    "idempotency-key-reused",
    "submit-application",
    "my-application",
    "read-application",
    "my-sessions",
    "problem-validation",
    "problem-permission",
    "problem-not-authenticated",
    "create-subscriber",
    "dead-deliveries",
]

# What the fixture's program asks (docs/api.md's examples answer these keys).
FORM_FIELDS = [
    {"key": "name", "label": "Your name", "type": "short_text", "required": True},
    {"key": "logline", "label": "Logline", "type": "long_text", "required": True, "max_words": 60},
    {"key": "needs_waiver", "label": "I cannot pay the fee", "type": "boolean"},
]


@dataclass
class Example:
    name: str
    role: str
    code: str
    status: int | None
    sets: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)


def parse_examples(text: str) -> list[Example]:
    examples = []
    for match in MARKER.finditer(text):
        attrs = dict(pair.split("=", 1) for pair in shlex.split(match["attrs"]))
        code = match["code"]
        status = STATUS.search(code)
        examples.append(
            Example(
                name=match["name"],
                role=attrs.get("role", "anonymous"),
                code=code,
                status=int(status["status"]) if status else None,
                sets=dict(item.split(":", 1) for item in attrs.get("sets", "").split(",") if item),
                headers=dict(item.split(":", 1) for item in attrs.get("header", "").split(",") if item),
                expect=dict(item.split(":", 1) for item in attrs.get("expect", "").split(",") if item),
            )
        )
    return examples


def test_the_guide_marks_every_main_flow():
    examples = parse_examples(GUIDE.read_text())
    names = [e.name for e in examples]
    assert names == sorted(set(names), key=names.index), "example names must be unique"
    assert [n for n in EXPECTED if n not in names] == []
    for example in examples:
        assert example.role in {"shell", "anonymous", "writer", "operator", "integrator", "reviewer", "mentor"}
        if example.role != "shell":
            assert example.status is not None, f"{example.name}: no '# -> STATUS' comment"
            assert example.code.count("curl ") == 1, f"{example.name}: one curl command per example"
            assert "$BASE/api/v1/" in example.code, f"{example.name}: use $BASE"


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"], safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _bash(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def world(live_server, make_user, make_program, builtin_templates, transactional_db):
    """Two open programs (the catalog pages), one with a form, and a token per role."""
    career_lab = make_program(builtin_templates["career-lab"], name="Career Lab 2026")
    make_program(builtin_templates["fee-waiver"], name="Fee Waiver 2026")
    application_form_publish(program=career_lab, fields=FORM_FIELDS)
    tokens = {"anonymous": ""}
    for role in ("writer", "operator", "integrator", "reviewer", "mentor"):
        user = make_user(email=f"{role}@docs.example", role=role, is_staff=role == "operator")
        tokens[role] = api_token_issue(user=user)[1]
    return {"base": live_server.url, "program_id": str(career_lab.pk), "tokens": tokens}


def test_every_curl_example_of_the_api_guide_runs(world, tmp_path):
    assert shutil.which("curl"), "curl is missing: install it (apt-get install curl); the API guide's examples need it"
    assert shutil.which("bash"), "bash is missing"
    examples = parse_examples(GUIDE.read_text())
    assert [n for n in EXPECTED if n not in {e.name for e in examples}] == []

    body_file, header_file = tmp_path / "body", tmp_path / "headers"
    # `curl` inside an example answers its status code and keeps the body and headers for the test.
    wrapper = (
        "curl() { command curl --silent --show-error --max-time 60 "
        f"--output {shlex.quote(str(body_file))} --dump-header {shlex.quote(str(header_file))} "
        "--write-out '%{http_code}' \"$@\"; }\n"
    )
    variables = {"BASE": world["base"], "PROGRAM_ID": world["program_id"]}
    base_env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    ran = []
    for example in examples:
        env = {**base_env, **variables}
        if example.role == "shell":
            result = _bash(example.code + '\nprintf "%s" "$TOKEN"', env)
            assert result.returncode == 0, f"{example.name}: {result.stderr}"
            key = result.stdout.strip().splitlines()[-1]
            check = _bash(wrapper + 'curl -H "Authorization: Token $TOKEN" "$BASE/api/v1/me"', {**env, "TOKEN": key})
            assert check.stdout == "200", f"{example.name}: the printed token does not authenticate"
            ran.append(example.name)
            continue
        env["TOKEN"] = world["tokens"][example.role]
        for path in (body_file, header_file):
            path.unlink(missing_ok=True)
        result = _bash(wrapper + example.code, env)
        assert result.returncode == 0, f"{example.name}: curl failed: {result.stderr}"
        assert result.stdout == str(example.status), (
            f"{example.name}: answered {result.stdout}, the guide says {example.status}: {body_file.read_text()}"
        )
        headers = {}
        for line in header_file.read_text().splitlines()[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        content_type = headers.get("content-type", "")
        body = json.loads(body_file.read_text())
        if example.status >= 400:
            assert content_type == "application/problem+json", example.name
            assert body["status"] == example.status and body["type"].startswith("/problems/"), example.name
            assert body["title"] and body["detail"], example.name
        else:
            assert content_type == "application/json", f"{example.name}: {content_type}"
        for name, value in example.headers.items():
            assert headers.get(name.lower()) == value, f"{example.name}: header {name}"
        for key, wanted in example.expect.items():
            wanted = variables[wanted[1:]] if wanted.startswith("$") else wanted
            assert str(body[key]) == wanted, f"{example.name}: {key} is {body[key]!r}, the guide says {wanted!r}"
        for var, key in example.sets.items():
            variables[var] = str(body[key])
        ran.append(example.name)
    assert ran == [e.name for e in examples]
