"""Analytics at scale. Generates one program with (by default) 200,000 enrollments, 20,000 sessions
and 2,000,000 attendance rows, plus 1,000 volunteers (hosts of the sessions, two matches each with
check-ins, feedback, milestones and activities), all bulk-inserted server-side with
`INSERT ... SELECT generate_series` (deterministic ids: md5 of a tag and the row number), then prints
one JSON line per figure:

- the generation of each table (rows per second);
- `sessions.compute` (the attendance rate and its companions) and the other metric families;
- the attendance aggregate through the ORM against the same aggregate as one raw SQL query (the
  limit), as `ratio_to_raw_sql`;
- VIS for 1,000 volunteers (`vis_for_volunteers`) and SROI;
- the program analytics endpoint end to end (`GET /api/v1/admin/programs/{id}/analytics`, target 2 s)
  and the snapshot of one day (the program, its campaigns and cohorts).

    python bench/analytics.py [--enrollments 200000] [--sessions 20000] [--attendance 2000000]
                              [--volunteers 1000] [--campaigns 4] [--cohorts 10] [--repeat 3] [--reuse] [--drop]

`BENCH_DATABASE_URL` picks the database (created and migrated if missing); `--drop` drops it at the end;
`BENCH_SCALE` scales the default sizes.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _setup import BENCH_DATABASE_URL, report, scaled, setup

PROGRAM_NAME = "Bench analytics"


def _defaults(model, given: dict[str, str]) -> tuple[list[str], list[str], list[Any]]:
    """Columns, SQL expressions and parameters for an INSERT ... SELECT of `model`: the `given`
    expressions, the rest from the field's default (uuid/now/literal) or NULL."""
    from django.db import connection

    columns, exprs, params = [], [], []
    for field in model._meta.concrete_fields:
        columns.append(field.column)
        if field.name in given or field.attname in given:
            exprs.append(given.get(field.name, given.get(field.attname)).replace("%", "%%"))
        elif field.primary_key:
            exprs.append("gen_random_uuid()")
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            exprs.append("now()")
        elif field.has_default():
            exprs.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            exprs.append("NULL")
        else:
            exprs.append("''")
    return columns, exprs, params


def _insert(model, given: dict[str, str], source: str, params: list[Any] | None = None) -> int:
    """INSERT INTO model's table SELECT the expressions FROM `source` (which binds `g`)."""
    from django.db import connection

    columns, exprs, defaults = _defaults(model, given)
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM {source}"
    with connection.cursor() as cursor:
        # the defaults' placeholders come first (SELECT list), then the source's
        cursor.execute(sql, [*defaults, *(params or [])])
        return cursor.rowcount


def _uuid(tag: str, expr: str) -> str:
    return f"md5('{tag}' || ({expr})::text)::uuid"


def _program():
    from programs.models import BeneficiaryGroup, Program
    from programs.services import beneficiary_group_create, program_create, program_set_status
    from templates_app.models import ProgramTemplate
    from templates_app.services import templates_seed_builtin

    templates_seed_builtin()
    group = BeneficiaryGroup.objects.filter(key="bench").first() or beneficiary_group_create(key="bench", name="Bench")
    template = ProgramTemplate.objects.get(template_key="mentorship-standard", version=1)
    program = program_create(template=template, name=PROGRAM_NAME, beneficiary_group=group)
    program_set_status(program=program, status="active")
    return Program.objects.get(pk=program.pk)


def _dimensions(program, args) -> tuple[list[Any], list[Any]]:
    """The program's campaigns (of one company) and cohorts, created through the product."""
    from datetime import date, timedelta

    from accounts.models import Company
    from accounts.services import company_create
    from programs.services import campaign_create
    from scheduling.models import Cohort

    company = Company.objects.filter(key="bench-analytics").first() or company_create(
        key="bench-analytics", name="Bench analytics"
    )
    campaigns = [
        campaign_create(program=program, company=company, name=f"Campaign {i}", max_enrollment=args.enrollments).pk
        for i in range(args.campaigns)
    ]
    start = date(2026, 1, 1)
    cohorts = [
        Cohort.objects.create(
            program=program,
            name=f"Cohort {i}",
            starts_on=start + timedelta(days=30 * i),
            ends_on=start + timedelta(days=30 * i + 90),
            capacity=args.enrollments,
        ).pk
        for i in range(args.cohorts)
    ]
    return campaigns, cohorts


def _existing(args) -> Any:
    """The program of an earlier run when it holds the requested number of enrollments."""
    from enrollments.models import Enrollment
    from programs.models import Program

    program = Program.objects.filter(name=PROGRAM_NAME).first()
    if program is not None and Enrollment.objects.filter(program=program).count() == args.enrollments:
        return program
    return None


def _cleanup() -> None:
    """Empty the tables this benchmark fills (its database is its own)."""
    from django.db import connection

    tables = [
        "analytics_snapshot",
        "scheduling_cohortmember",
        "scheduling_attendance",
        "scheduling_registration",
        "scheduling_sessionreminder",
        "scheduling_hostconfirmation",
        "scheduling_session",
        "mentorship_checkin",
        "mentorship_feedback",
        "mentorship_activity",
        "mentorship_milestone",
        "mentorship_match",
        "enrollments_outcome",
        "enrollments_journeyflags",
        "enrollments_enrollment",
        "scheduling_cohort",
        "programs_campaign",
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        cursor.execute("DELETE FROM programs_program WHERE name = %s", [PROGRAM_NAME])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", ["%@analytics.bench.local"])


def _timed(label: str, size: int, fn, **extra) -> float:
    start = time.perf_counter()
    rows = fn()
    seconds = time.perf_counter() - start
    report(label, size if rows is None else rows, seconds, **extra)
    return seconds


def generate(args) -> Any:
    from django.contrib.auth import get_user_model

    from enrollments.models import Enrollment
    from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone
    from scheduling.models import Attendance, CohortMember, Session

    User = get_user_model()
    _cleanup()
    program = _program()
    E, S, V = args.enrollments, args.sessions, args.volunteers
    per_session = max(1, min(E, args.attendance // S))
    pid, gid = f"'{program.pk}'::uuid", f"'{program.beneficiary_group_id}'::uuid"
    base = "TIMESTAMPTZ '2026-01-01 00:00+00'"

    def people():
        return _insert(
            User,
            {"id": _uuid("p", "g"), "email": "'p' || g || '@analytics.bench.local'", "password": "'!'"},
            "generate_series(1, %s) AS g",
            [E],
        ) + _insert(
            User,
            {"id": _uuid("v", "g"), "email": "'v' || g || '@analytics.bench.local'", "password": "'!'"},
            "generate_series(0, %s) AS g",
            [V - 1],
        )

    campaigns, cohorts = _dimensions(program, args)
    campaign_array = "ARRAY[" + ", ".join(f"'{c}'::uuid" for c in campaigns) + "]"
    cohort_array = "ARRAY[" + ", ".join(f"'{c}'::uuid" for c in cohorts) + "]"

    def enrollments():
        return _insert(
            Enrollment,
            {
                "id": _uuid("e", "g"),
                # one in five through no campaign, the others spread over the campaigns
                "campaign": f"CASE WHEN g % 5 = 0 THEN NULL ELSE ({campaign_array})[g % {len(campaigns)} + 1] END",
                "user": _uuid("p", "g"),
                "program": pid,
                "beneficiary_group": gid,
                "program_type": f"'{program.program_type}'",
                "role": "'mentee'",
                "status": "CASE g % 10 WHEN 0 THEN 'completed' WHEN 1 THEN 'dropped' ELSE 'active' END",
                "enrolled_at": f"{base} + (g % 300) * INTERVAL '1 day'",
                "completed_at": f"CASE WHEN g % 10 = 0 THEN {base} + INTERVAL '330 days' END",
                "dropped_at": f"CASE WHEN g % 10 = 1 THEN {base} + INTERVAL '320 days' END",
            },
            "generate_series(1, %s) AS g",
            [E],
        )

    def cohort_members():
        # every enrollment in one cohort
        return _insert(
            CohortMember,
            {
                "cohort": f"({cohort_array})[g % {len(cohorts)} + 1]",
                "enrollment": _uuid("e", "g"),
                "status": "CASE g % 10 WHEN 0 THEN 'completed' WHEN 1 THEN 'dropped' ELSE 'active' END",
                "joined_at": f"{base} + (g % 300) * INTERVAL '1 day'",
                "left_at": f"CASE WHEN g % 10 IN (0, 1) THEN {base} + INTERVAL '330 days' END",
            },
            "generate_series(1, %s) AS g",
            [E],
        )

    def sessions():
        return _insert(
            Session,
            {
                "id": _uuid("s", "g"),
                "program": pid,
                "kind": "'cohort_session'",
                "title": "'Session ' || g",
                "starts_at": f"{base} + (g % 365) * INTERVAL '1 day' + (g % 10) * INTERVAL '1 hour'",
                "ends_at": f"{base} + (g % 365) * INTERVAL '1 day' + (g % 10 + 1) * INTERVAL '1 hour'",
                "timezone": "'UTC'",
                "status": "CASE g % 20 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'scheduled' ELSE 'delivered' END",
                "host": _uuid("v", "g % " + str(V)),
            },
            "generate_series(1, %s) AS g",
            [S],
        )

    def attendance():
        # session s (0-based) gets people (s * k + j) % E + 1 for j < k: distinct within a session
        status = (
            "CASE WHEN (s * 7 + j * 13) % 20 < 14 THEN 'present' WHEN (s * 7 + j * 13) % 20 < 16 THEN 'late' "
            "WHEN (s * 7 + j * 13) % 20 < 19 THEN 'absent' ELSE 'excused' END"
        )
        total = 0
        chunk = 2000  # sessions per statement
        for first in range(0, S, chunk):
            total += _insert(
                Attendance,
                {
                    "session": _uuid("s", "s + 1"),
                    "user": _uuid("p", f"(s::bigint * {per_session} + j) % {E} + 1"),
                    "status": status,
                    "minutes_attended": "CASE WHEN j % 3 = 0 THEN 45 END",
                },
                "generate_series(%s, %s) AS s, generate_series(0, %s) AS j",
                [first, min(S, first + chunk) - 1, per_session - 1],
            )
        return total

    def volunteers():
        # each volunteer v: match 0 active (mentee 2v+1), match 1 ended (mentee 2v+2), both started
        # in March; 10 check-ins per match, one rating per match, 2 milestones per mentee, 5 activities
        match = _uuid("m", "v || '-' || i")
        n = _insert(
            Match,
            {
                "id": match,
                "program": pid,
                "mentor": _uuid("v", "v"),
                "mentee": _uuid("p", f"(2 * v + i) % {E} + 1"),
                "status": "CASE i WHEN 0 THEN 'active' ELSE 'ended' END",
                "source": "'manual'",
                "end_reason": "CASE i WHEN 0 THEN '' ELSE 'completed' END",
                "started_at": f"{base} + INTERVAL '60 days'",
                "ended_at": f"CASE i WHEN 0 THEN NULL ELSE {base} + INTERVAL '150 days' END",
            },
            "generate_series(0, %s) AS v, generate_series(0, 1) AS i",
            [V - 1],
        )
        n += _insert(
            CheckIn,
            {"match": match, "by": _uuid("v", "v"), "mood": "4", "at": f"{base} + (61 + c) * INTERVAL '1 day'"},
            "generate_series(0, %s) AS v, generate_series(0, 1) AS i, generate_series(0, 9) AS c",
            [V - 1],
        )
        n += _insert(
            Feedback,
            {
                "match": match,
                "author": _uuid("p", f"(2 * v + i) % {E} + 1"),
                "rating": "v % 5 + 1",
                "at": f"{base} + INTERVAL '100 days'",
            },
            "generate_series(0, %s) AS v, generate_series(0, 1) AS i",
            [V - 1],
        )
        n += _insert(
            Milestone,
            {
                "user": _uuid("p", f"(2 * v + i) % {E} + 1"),
                "program": pid,
                "key": "'step-' || k",
                "reached_at": f"{base} + (70 + k) * INTERVAL '1 day'",
            },
            "generate_series(0, %s) AS v, generate_series(0, 1) AS i, generate_series(0, 1) AS k",
            [V - 1],
        )
        n += _insert(
            Activity,
            {
                "program": pid,
                "user": _uuid("v", "v"),
                "kind": "CASE WHEN a % 2 = 0 THEN 'event' ELSE 'session' END",
                "occurred_at": f"{base} + (80 + a) * INTERVAL '1 day'",
                "duration_minutes": "60",
            },
            "generate_series(0, %s) AS v, generate_series(0, 4) AS a",
            [V - 1],
        )
        return n

    _timed("analytics.generate.users", E + V, people)
    _timed("analytics.generate.enrollments", E, enrollments)
    _timed("analytics.generate.cohort_members", E, cohort_members, cohorts=len(cohorts), campaigns=len(campaigns))
    _timed("analytics.generate.sessions", S, sessions)
    _timed("analytics.generate.attendance", args.attendance, attendance, per_session=per_session)
    _timed("analytics.generate.volunteer_activity", V, volunteers)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return program


# The attendance aggregate as one raw SQL query, in both forms: grouped per person (what the ORM
# emits) and with COUNT(DISTINCT); the ratio is taken to the faster one.
RAW_ATTENDANCE = """
    SELECT SUM(n), SUM(present), SUM(late), SUM(absent), SUM(excused), COUNT(*)
    FROM (
        SELECT a.user_id, COUNT(*) AS n,
               COUNT(*) FILTER (WHERE a.status = 'present') AS present,
               COUNT(*) FILTER (WHERE a.status = 'late') AS late,
               COUNT(*) FILTER (WHERE a.status = 'absent') AS absent,
               COUNT(*) FILTER (WHERE a.status = 'excused') AS excused
        FROM scheduling_attendance a JOIN scheduling_session s ON s.id = a.session_id
        WHERE s.program_id = %s AND s.status = 'delivered'
        GROUP BY a.user_id
    ) AS per_person
"""
RAW_ATTENDANCE_DISTINCT = """
    SELECT COUNT(*),
           COUNT(*) FILTER (WHERE a.status = 'present'),
           COUNT(*) FILTER (WHERE a.status = 'late'),
           COUNT(*) FILTER (WHERE a.status = 'absent'),
           COUNT(*) FILTER (WHERE a.status = 'excused'),
           COUNT(DISTINCT a.user_id)
    FROM scheduling_attendance a JOIN scheduling_session s ON s.id = a.session_id
    WHERE s.program_id = %s AND s.status = 'delivered'
"""


def _best(fn, repeat: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def measure(program, args) -> None:
    from django.db import connection

    from analytics.impact import sroi, vis_for_volunteers
    from analytics.metrics import mentorship, outcomes, sessions
    from analytics.scope import Scope

    scope = Scope(program_ids=(program.pk,))
    rows = args.attendance

    orm_seconds, orm = _best(lambda: sessions.attendance_counts(scope), args.repeat)

    def raw(sql):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, [program.pk])
                return tuple(int(v) for v in cursor.fetchone())

        return run

    distinct_seconds, distinct_row = _best(raw(RAW_ATTENDANCE_DISTINCT), args.repeat)
    raw_seconds, raw_row = _best(raw(RAW_ATTENDANCE), args.repeat)
    assert tuple(orm.values()) == raw_row == distinct_row, (orm, raw_row, distinct_row)
    fastest = "analytics.attendance_aggregate." + (
        "raw_sql" if raw_seconds <= distinct_seconds else "raw_sql_count_distinct"
    )
    report(
        "analytics.attendance_aggregate.orm",
        rows,
        orm_seconds,
        baseline=fastest,
        ratio=orm_seconds / min(raw_seconds, distinct_seconds),
    )
    report("analytics.attendance_aggregate.raw_sql_count_distinct", rows, distinct_seconds)
    report(
        "analytics.attendance_aggregate.raw_sql",
        rows,
        raw_seconds,
        ratio_to_raw_sql=round(orm_seconds / min(raw_seconds, distinct_seconds), 3),
    )

    seconds, result = _best(lambda: sessions.compute(scope), args.repeat)
    report("analytics.sessions.compute", rows, seconds, attendance_rate=result["attendance_rate"])
    seconds, _ = _best(lambda: mentorship.compute(scope), args.repeat)
    report("analytics.mentorship.compute", args.volunteers * 2, seconds)
    seconds, _ = _best(lambda: outcomes.compute(scope), args.repeat)
    report("analytics.outcomes.compute", args.enrollments, seconds)

    from django.contrib.auth import get_user_model

    ids = list(
        get_user_model()
        .objects.filter(email__startswith="v", email__endswith="@analytics.bench.local")
        .values_list("pk", flat=True)[: args.volunteers]
    )
    seconds, vis = _best(lambda: vis_for_volunteers(ids, scope), args.repeat)
    report(
        "analytics.vis.volunteers",
        len(ids),
        seconds,
        target_seconds=0.5,
        mean_vis=round(sum(p["total"]["vis"] for p in vis.values()) / max(1, len(vis)), 4),
    )
    seconds, _ = _best(lambda: sroi(scope), args.repeat)
    report("analytics.sroi", 1, seconds)
    measure_endpoint_and_snapshot(program, args)


def measure_endpoint_and_snapshot(program, args) -> None:
    """The program analytics endpoint end to end (HTTP through Django and DRF, JSON rendered) and
    the snapshot job's work for one day of the program."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from analytics.models import Snapshot
    from analytics.snapshots import snapshot_day

    user, _ = get_user_model().objects.get_or_create(
        email="operator@analytics.bench.local", defaults={"is_superuser": True, "is_staff": True}
    )
    client = APIClient()
    client.force_authenticate(user)
    url = f"/api/v1/admin/programs/{program.pk}/analytics"

    def call():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        return len(queries), len(response.content)

    from django.conf import settings

    # The families run on two connections side by side (analytics.selectors); the query count is
    # taken once with them one after the other on this connection, where it can be captured.
    parallel = settings.ANALYTICS_PARALLEL_CONNECTIONS
    settings.ANALYTICS_PARALLEL_CONNECTIONS = 1
    one_by_one, (queries, size) = _best(call, 1)
    settings.ANALYTICS_PARALLEL_CONNECTIONS = parallel
    seconds, _ = _best(call, args.repeat)
    report(
        "analytics.endpoint.program",
        args.attendance,
        seconds,
        target_seconds=2.0,
        queries=queries,
        connections=parallel,
        one_connection_seconds=round(one_by_one, 3),
        response_bytes=size,
    )
    day = date(2026, 12, 31)
    seconds, rows = _best(lambda: snapshot_day(day=day, program_ids=[program.pk]), 1)
    assert Snapshot.objects.filter(day=day, program=program).count() == rows
    report("analytics.snapshot.day", rows, seconds, rows_per_program=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enrollments", type=int, default=scaled(200_000, 100))
    parser.add_argument("--sessions", type=int, default=scaled(20_000, 10))
    parser.add_argument("--attendance", type=int, default=scaled(2_000_000, 100))
    parser.add_argument("--volunteers", type=int, default=scaled(1_000, 10))
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--cohorts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="Runs per figure; the best is printed.")
    parser.add_argument("--drop", action="store_true", help="Drop the benchmark database at the end.")
    parser.add_argument(
        "--reuse", action="store_true", help="Measure the data a previous run generated (same sizes) instead of anew."
    )
    args = parser.parse_args()
    setup()
    program = _existing(args) if args.reuse else None
    program = program or generate(args)
    measure(program, args)
    if args.drop:
        _drop()


def _drop() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    server, name = BENCH_DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
