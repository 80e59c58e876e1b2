"""The load run's dataset: the demo data plus several open programs with many people, sessions,
attendance and applications, bulk-inserted, and the credentials the load driver uses. Writes them
as JSON (the fixture) for `load/locustfile.py`.

    DATABASE_URL=postgres://.../platform_load python load/seed.py --out var/load/fixture.json
        [--programs 4] [--enrollments 5000] [--sessions 250] [--attendance-per-session 40]
        [--applications 2000] [--writers 1500] [--analytics-enrollments 20000]
        [--analytics-sessions 1000] [--analytics-attendance-per-session 100]

The first program is the analytics one (the larger, "moderate" dataset the analytics endpoint
reads); the others take applications. Every load writer has an API token, is registered for a few
upcoming sessions (their "my sessions") and may apply once to each open program. Run it on a
fresh, migrated database: it does not clean up after an earlier run (`load/run.py` recreates the
database first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "load.example.org"
TEMPLATES = ["mentorship-standard", "career-lab", "upskilling-courses", "language-tutoring", "pitch-week"]


def _say(text: str) -> None:
    sys.stderr.write(f"seed: {text}\n")
    sys.stderr.flush()


def _program(index: int, template_key: str, group):
    from programs.services import program_create, program_set_status
    from templates_app.models import ProgramTemplate

    template = ProgramTemplate.objects.filter(template_key=template_key).order_by("-version").first()
    program = program_create(
        template=template,
        name=f"Load program {index + 1} ({template_key})",
        beneficiary_group=group,
        description="A program of the load run.",
    )
    program_set_status(program=program, status="active")
    return program


def _people(prefix: str, count: int, password: str):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    zones = ["Europe/Berlin", "Europe/Kyiv", "UTC", "America/New_York"]
    return User.objects.bulk_create(
        [
            User(
                email=f"{prefix}{i}@{DOMAIN}",
                password=password,
                full_name=f"{prefix.title()} {i}",
                timezone=zones[i % len(zones)],
            )
            for i in range(count)
        ],
        batch_size=5000,
    )


def _fill(program, people, *, sessions: int, per_session: int, applications: int, form, rng, now) -> dict:
    """Enrollments of `people`, past delivered sessions with attendance, upcoming sessions, and
    submitted applications of the first `applications` people."""
    from applications.models import Application
    from enrollments.models import Enrollment
    from scheduling.models import Attendance, Session

    role = "mentee" if program.program_type in ("mentorship", "buddy") else "participant"
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                user=person,
                program=program,
                beneficiary_group_id=program.beneficiary_group_id,
                program_type=program.program_type,
                role=role,
                status="completed" if i % 10 == 0 else ("dropped" if i % 10 == 1 else "active"),
                enrolled_at=now - timedelta(days=1 + i % 300),
                completed_at=now - timedelta(days=1) if i % 10 == 0 else None,
                dropped_at=now - timedelta(days=2) if i % 10 == 1 else None,
            )
            for i, person in enumerate(people)
        ],
        batch_size=5000,
    )
    past = sessions * 4 // 5
    rows = Session.objects.bulk_create(
        [
            Session(
                program=program,
                kind="cohort_session",
                title=f"{program.name}: session {i + 1}",
                starts_at=now + timedelta(days=(i - past) * 300 // max(past, 1) if i < past else 1 + i - past, hours=9),
                ends_at=now + timedelta(days=(i - past) * 300 // max(past, 1) if i < past else 1 + i - past, hours=10),
                timezone="Europe/Berlin",
                status="delivered" if i < past else "scheduled",
                capacity=500,
            )
            for i in range(sessions)
        ],
        batch_size=5000,
    )
    statuses = ["present"] * 14 + ["late"] * 2 + ["absent"] * 3 + ["excused"]
    attendance = []
    for session in rows[:past]:
        for person in rng.sample(people, min(per_session, len(people))):
            attendance.append(
                Attendance(
                    session=session,
                    user=person,
                    status=rng.choice(statuses),
                    minutes_attended=rng.choice([None, 45, 60]),
                )
            )
    Attendance.objects.bulk_create(attendance, batch_size=10000)
    if form is not None:
        Application.objects.bulk_create(
            [
                Application(
                    applicant=person,
                    program=program,
                    form=form,
                    answers={"motivation": f"Applicant {i} would like to take part."},
                    status="under_review" if i % 3 else "submitted",
                    submitted_at=now - timedelta(minutes=i),
                    last_progress_at=now - timedelta(minutes=i),
                )
                for i, person in enumerate(people[:applications])
            ],
            batch_size=5000,
        )
    return {"upcoming": rows[past:], "attendance": len(attendance)}


def _tokens(users, name: str) -> list[str]:
    from accounts.models import ApiToken
    from accounts.services import hash_token_key

    keys = [secrets.token_urlsafe(32) for _ in users]
    ApiToken.objects.bulk_create(
        [
            ApiToken(user=user, name=name, prefix=key[:8], key_hash=hash_token_key(key))
            for user, key in zip(users, keys, strict=True)
        ],
        batch_size=5000,
    )
    return keys


def seed(args) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from accounts.services import api_token_issue, roles_ensure_groups, user_create_or_update, user_grant_role
    from applications.services import application_form_publish
    from core import clock
    from crm_sync.services import inbound_source_create
    from crm_sync.signing import new_secret
    from programs.models import BeneficiaryGroup, Program
    from programs.services import beneficiary_group_create
    from scheduling.models import Registration
    from templates_app.services import templates_seed_builtin

    started = time.perf_counter()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed at exit
    _say(f"demo data in {time.perf_counter() - started:.1f} s")
    roles_ensure_groups()
    templates_seed_builtin()
    group = BeneficiaryGroup.objects.filter(key="load").first() or beneficiary_group_create(key="load", name="Load run")
    rng = random.Random(20261201)
    now = clock.now()
    password = make_password(None)

    programs, figures = [], {}
    for index in range(args.programs + 1):
        program = _program(index, TEMPLATES[index % len(TEMPLATES)], group)
        analytics = index == 0
        form = None
        if not analytics:
            form = application_form_publish(
                program=program,
                fields=[{"key": "motivation", "label": "Why this program?", "type": "long_text", "required": True}],
            )
        count = args.analytics_enrollments if analytics else args.enrollments
        people = _people(f"p{index}-", count, password)
        filled = _fill(
            program,
            people,
            sessions=args.analytics_sessions if analytics else args.sessions,
            per_session=args.analytics_attendance_per_session if analytics else args.attendance_per_session,
            applications=0 if analytics else args.applications,
            form=form,
            rng=rng,
            now=now,
        )
        programs.append((program, analytics, filled["upcoming"]))
        figures[program.program_key] = {"enrollments": count, "attendance": filled["attendance"]}
        _say(f"{program.program_key}: {count} people, {filled['attendance']} attendance rows")

    writers = _people("writer", args.writers, password)
    writer_keys = _tokens(writers, "load")
    upcoming = [session for _, _, sessions in programs for session in sessions]
    Registration.objects.bulk_create(
        [
            Registration(session=session, user=writer, status="registered", source="operator", registered_at=now)
            for writer in writers
            for session in rng.sample(upcoming, min(3, len(upcoming)))
        ],
        batch_size=10000,
    )
    operator, _ = user_create_or_update(email=f"operator@{DOMAIN}", full_name="Load operator", is_staff=True)
    user_grant_role(user=operator, role="operator")
    _, operator_key = api_token_issue(user=operator, name="load")
    secret = new_secret()
    inbound_source_create(key="buddy", name="Buddy (load run)", secret=secret)
    buddy = Program.objects.filter(program_type="buddy", status="active").order_by("created_at").first()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    catalog = list(Program.objects.filter(status="active").order_by("name").values_list("program_key", "id"))
    return {
        "catalog": [{"key": key, "id": str(pk)} for key, pk in catalog],
        "open_programs": [str(p.pk) for p, analytics, _ in programs if not analytics],
        "analytics_program": str(programs[0][0].pk),
        "operator_token": operator_key,
        "writer_tokens": writer_keys,
        "inbound": {"source": "buddy", "secret": secret, "program_key": buddy.program_key if buddy else None},
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "var" / "load" / "fixture.json"))
    parser.add_argument("--programs", type=int, default=4, help="Programs that take applications.")
    parser.add_argument("--enrollments", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=250)
    parser.add_argument("--attendance-per-session", type=int, default=40)
    parser.add_argument("--applications", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=1500)
    parser.add_argument("--analytics-enrollments", type=int, default=20000)
    parser.add_argument("--analytics-sessions", type=int, default=1000)
    parser.add_argument("--analytics-attendance-per-session", type=int, default=100)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    fixture = seed(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fixture, indent=1))
    _say(f"done in {fixture['seconds']} s; fixture in {out}")


if __name__ == "__main__":
    main()
