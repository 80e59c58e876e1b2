"""Volunteer impact (VIS) and social return (SROI), docs/kpis.md "Impact".

VIS of one volunteer in one program:

    weighted_hours = w_hosted * hosted_hours + w_attended * attended_hours
                   + w_event * event_hours + w_session * partner_session_hours
                   + w_checkin * checkins * checkin_minutes / 60
    quality        = average rating of feedback received on their matches / 5
                     (DEFAULT_QUALITY when nobody rated them yet; 1 when the template turns
                     `quality_score` off)
    outcome_lift   = milestones their mentees reached during their matches / their started matches
                     (0 without a started match, or when the template turns `outcome_lift` off)
    vis            = weighted_hours * quality * (1 + outcome_lift)

Cross-program totals add hours, check-ins, matches, milestones and VIS over the volunteer's
programs. Weights come from the program config's `vis` section when present
(`{"weights": {...}, "checkin_minutes": n}`), else DEFAULT_WEIGHTS / DEFAULT_CHECKIN_MINUTES.

SROI of a program per dimension = units * `sroi.coefficients[dimension]`, in `sroi.currency`,
Decimal to the cent; units per dimension are defined in SROI_UNITS."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, FloatField, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce

from analytics.metrics.sessions import session_filter
from analytics.scope import Scope
from analytics.sql import EpochSeconds
from applications.enums import ApplicationStatus
from applications.models import Application
from enrollments.models import Enrollment, Outcome
from mentorship.enums import ActivityKind, MatchStatus, ProfileKind
from mentorship.models import Activity, CheckIn, Feedback, Match, Milestone, Profile
from programs.models import Program
from scheduling.enums import ATTENDED, SessionStatus
from scheduling.models import Attendance, Session
from templates_app.enums import PlatformRole

DEFAULT_WEIGHTS: dict[str, float] = {
    "hosted": 1.5,  # hosting a delivered session: preparation on top of the time in the room
    "attended": 1.0,  # taking part in a delivered session someone else hosted
    "event": 1.0,  # an event attended (activity of kind `event`)
    "session": 1.0,  # a partner session held (activity of kind `session`)
    "checkin": 1.0,  # a wellness check-in, valued at `checkin_minutes`
}
DEFAULT_CHECKIN_MINUTES = 15
DEFAULT_QUALITY = 0.6  # a middle rating (3 of 5) until someone rates the volunteer
CENT = Decimal("0.01")


def _round(value: float) -> float:
    return round(value, 4)


def _vis_settings(program: Program) -> dict[str, Any]:
    section = (program.config or {}).get("vis") or {}
    weights = {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in (section.get("weights") or {}).items()}}
    components = program.template.vis_components or {}
    return {
        "weights": weights,
        "checkin_minutes": float(section.get("checkin_minutes", DEFAULT_CHECKIN_MINUTES)),
        "quality": components.get("quality_score", True),
        "lift": components.get("outcome_lift", True),
    }


def _session_minutes(prefix: str = ""):
    return EpochSeconds(F(f"{prefix}ends_at"), F(f"{prefix}starts_at")) / Value(60.0)


def _range(q_field: str, scope: Scope) -> Q:
    q = Q()
    if scope.start:
        q &= Q(**{f"{q_field}__gte": scope.start})
    if scope.end:
        q &= Q(**{f"{q_field}__lt": scope.end})
    return q


def _programs(field: str, scope: Scope) -> Q:
    return Q(**{f"{field}__in": scope.program_ids}) if scope.program_ids else Q()


def _lift_rows(user_ids: list, scope: Scope) -> list[tuple]:
    """(mentor, program, started matches, milestones their mentees reached during the matches)."""
    if connection.vendor != "postgresql":
        return _lift_rows_portable(user_ids, scope)
    params: list[Any] = [user_ids, [MatchStatus.ACTIVE, MatchStatus.ENDED]]
    conditions = ["m.mentor_id = ANY(%s)", "m.status = ANY(%s)"]
    milestone_range = ""
    if scope.program_ids:
        conditions.append("m.program_id = ANY(%s)")
        params.append(list(scope.program_ids))
    if scope.end:
        conditions.append("m.started_at < %s")
        params.append(scope.end)
        milestone_range += " AND ms.reached_at < %s"
    if scope.start:
        conditions.append("(m.ended_at IS NULL OR m.ended_at >= %s)")
        params.append(scope.start)
        milestone_range += " AND ms.reached_at >= %s"
    milestone_params = [v for v in (scope.end, scope.start) if v is not None]
    sql = f"""
        SELECT m.mentor_id, m.program_id, COUNT(DISTINCT m.id), COUNT(ms.id)
        FROM {Match._meta.db_table} m
        LEFT JOIN {Milestone._meta.db_table} ms
          ON ms.user_id = m.mentee_id AND ms.program_id = m.program_id
         AND ms.reached_at >= m.started_at AND (m.ended_at IS NULL OR ms.reached_at <= m.ended_at){milestone_range}
        WHERE {" AND ".join(conditions)}
        GROUP BY m.mentor_id, m.program_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, milestone_params + params)
        return cursor.fetchall()


def _lift_rows_portable(user_ids: list, scope: Scope) -> list[tuple]:
    """`_lift_rows` for databases without arrays (the embedded SQLite default): the same rule over
    the matches and their mentees' milestones, in Python; two queries."""
    matches = Match.objects.filter(
        _programs("program_id", scope), mentor_id__in=user_ids, status__in=[MatchStatus.ACTIVE, MatchStatus.ENDED]
    )
    if scope.end:
        matches = matches.filter(started_at__lt=scope.end)
    if scope.start:
        matches = matches.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=scope.start))
    rows = list(matches.values_list("id", "mentor_id", "program_id", "mentee_id", "started_at", "ended_at"))
    milestones = Milestone.objects.filter(
        user_id__in={row[3] for row in rows},
        program_id__in={row[2] for row in rows},
        **_date_kwargs("reached_at", scope),
    )
    reached: dict[tuple, list] = defaultdict(list)
    for user_id, program_id, at in milestones.values_list("user_id", "program_id", "reached_at"):
        reached[(user_id, program_id)].append(at)
    totals: dict[tuple, list[int]] = {}
    for _match_id, mentor_id, program_id, mentee_id, started_at, ended_at in rows:
        entry = totals.setdefault((mentor_id, program_id), [0, 0])
        entry[0] += 1
        entry[1] += sum(
            1 for at in reached[(mentee_id, program_id)] if at >= started_at and (ended_at is None or at <= ended_at)
        )
    return [(mentor, program, n, m) for (mentor, program), (n, m) in totals.items()]


def vis_for_volunteers(user_ids: Iterable[Any], scope: Scope | None = None) -> dict[Any, dict[str, Any]]:
    """VIS of each volunteer, per program and across programs, in seven queries whatever the number
    of volunteers. Volunteers with nothing recorded get empty programs and zero totals."""
    scope = scope or Scope()
    ids = list(user_ids)
    rows: dict[tuple, dict[str, float]] = defaultdict(
        lambda: {
            "hosted_minutes": 0.0,
            "attended_minutes": 0.0,
            "event_minutes": 0.0,
            "session_minutes": 0.0,
            "checkins": 0,
            "ratings": 0,
            "rating_sum": 0.0,
            "matches": 0,
            "milestones": 0,
        }
    )
    if not ids:
        return {}

    hosted = (
        Session.objects.filter(session_filter(Scope(scope.program_ids, scope.date_from, scope.date_to)))
        .filter(host_id__in=ids, status=SessionStatus.DELIVERED)
        .values("host_id", "program_id")
        .annotate(minutes=Sum(_session_minutes()))
    )
    for row in hosted:
        rows[(row["host_id"], row["program_id"])]["hosted_minutes"] += float(row["minutes"] or 0)

    attended = (
        Attendance.objects.filter(
            session_filter(Scope(scope.program_ids, scope.date_from, scope.date_to), "session__"),
            user_id__in=ids,
            status__in=ATTENDED,
            session__status=SessionStatus.DELIVERED,
        )
        .exclude(session__host_id=F("user_id"))
        .values("user_id", "session__program_id")
        .annotate(minutes=Sum(Coalesce(Cast("minutes_attended", FloatField()), _session_minutes("session__"))))
    )
    for row in attended:
        rows[(row["user_id"], row["session__program_id"])]["attended_minutes"] += float(row["minutes"] or 0)

    activities = (
        Activity.objects.filter(_programs("program_id", scope), _range("occurred_at", scope), user_id__in=ids)
        .values("user_id", "program_id", "kind")
        .annotate(minutes=Sum("duration_minutes"))
    )
    for row in activities:
        key = "event_minutes" if row["kind"] == ActivityKind.EVENT else "session_minutes"
        rows[(row["user_id"], row["program_id"])][key] += float(row["minutes"] or 0)

    checkins = (
        CheckIn.objects.filter(_programs("match__program_id", scope), _range("at", scope), by_id__in=ids)
        .values("by_id", "match__program_id")
        .annotate(n=Count("id"))
    )
    for row in checkins:
        rows[(row["by_id"], row["match__program_id"])]["checkins"] += row["n"]

    ratings = (
        Feedback.objects.filter(_programs("match__program_id", scope), _range("at", scope), match__mentor_id__in=ids)
        .exclude(author_id=F("match__mentor_id"))
        .values("match__mentor_id", "match__program_id")
        .annotate(n=Count("id"), total=Sum("rating"))
    )
    for row in ratings:
        entry = rows[(row["match__mentor_id"], row["match__program_id"])]
        entry["ratings"] += row["n"]
        entry["rating_sum"] += float(row["total"] or 0)

    for mentor_id, program_id, matches, milestones in _lift_rows(ids, scope):
        entry = rows[(mentor_id, program_id)]
        entry["matches"] += matches
        entry["milestones"] += milestones

    programs = {
        p.pk: p
        for p in Program.objects.filter(pk__in={program_id for _, program_id in rows})
        .select_related("template")
        .only("id", "name", "config", "template__vis_components")
    }
    settings = {pk: _vis_settings(p) for pk, p in programs.items()}

    result: dict[Any, dict[str, Any]] = {
        uid: {"programs": [], "total": {"weighted_hours": 0.0, "hours": 0.0, "checkins": 0, "vis": 0.0}} for uid in ids
    }
    for (uid, program_id), raw in sorted(rows.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        conf = settings[program_id]
        w = conf["weights"]
        hours = {
            "hosted": raw["hosted_minutes"] / 60,
            "attended": raw["attended_minutes"] / 60,
            "event": raw["event_minutes"] / 60,
            "session": raw["session_minutes"] / 60,
            "checkin": raw["checkins"] * conf["checkin_minutes"] / 60,
        }
        weighted = sum(w[k] * hours[k] for k in hours)
        if not conf["quality"]:
            quality = 1.0
        elif raw["ratings"]:
            quality = raw["rating_sum"] / raw["ratings"] / 5
        else:
            quality = DEFAULT_QUALITY
        lift = raw["milestones"] / raw["matches"] if conf["lift"] and raw["matches"] else 0.0
        vis = weighted * quality * (1 + lift)
        entry = {
            "program_id": program_id,
            "program": programs[program_id].name,
            "hours": {k: _round(v) for k, v in hours.items()},
            "checkins": raw["checkins"],
            "weighted_hours": _round(weighted),
            "ratings": raw["ratings"],
            "quality": _round(quality),
            "matches": raw["matches"],
            "milestones": raw["milestones"],
            "outcome_lift": _round(lift),
            "vis": _round(vis),
        }
        person = result[uid]
        person["programs"].append(entry)
        total = person["total"]
        total["weighted_hours"] += weighted
        total["hours"] += sum(hours.values())
        total["checkins"] += raw["checkins"]
        total["vis"] += vis
    for person in result.values():
        person["total"] = {k: _round(v) if isinstance(v, float) else v for k, v in person["total"].items()}
    return result


def vis_by_program(vis: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """Program totals of a `vis_for_volunteers` result: volunteers with activity, weighted hours, VIS."""
    totals: dict[Any, dict[str, Any]] = {}
    for person in vis.values():
        for entry in person["programs"]:
            t = totals.setdefault(
                entry["program_id"],
                {
                    "program_id": entry["program_id"],
                    "program": entry["program"],
                    "volunteers": 0,
                    "weighted_hours": 0.0,
                    "vis": 0.0,
                },
            )
            t["volunteers"] += 1
            t["weighted_hours"] += entry["weighted_hours"]
            t["vis"] += entry["vis"]
    for t in totals.values():
        t["weighted_hours"], t["vis"] = _round(t["weighted_hours"]), _round(t["vis"])
    return sorted(totals.values(), key=lambda t: -t["vis"])


# SROI: how many units of each dimension a program produced (in scope).
SROI_UNITS = {
    # a milestone reached by a participant (community milestones: integration steps)
    "integration_score": "milestones reached",
    # source 001: +0.1 level per language session attended (present or late, delivered sessions)
    "language_proficiency": "0.1 x sessions attended",
    # a job placement or promotion recorded as an outcome
    "job_readiness": "outcomes of type placed or promoted",
    # fee waivers: the value waived = waivers granted (accepted applications) x the program's
    # `waiver.amount`
    "access": "accepted applications x waiver.amount",
}
LANGUAGE_LEVEL_PER_SESSION = Decimal("0.1")


def sroi(scope: Scope) -> dict[str, Any]:
    """SROI per program and dimension (units, coefficient, value) and totals per currency, in five
    queries. Dimensions without a coefficient in the program's `sroi.coefficients`, or turned off
    in the template's `sroi_dimensions`, are left out."""
    programs = Program.objects.select_related("template").only("id", "name", "config", "template__sroi_dimensions")
    if scope.program_ids:
        programs = programs.filter(pk__in=scope.program_ids)
    programs = list(programs)
    ids = [p.pk for p in programs]
    sub = Scope(tuple(ids), scope.date_from, scope.date_to)

    milestones = dict(
        Milestone.objects.filter(program_id__in=ids, **_date_kwargs("reached_at", scope))
        .values("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )
    attended = dict(
        Attendance.objects.filter(
            session_filter(sub, "session__"), status__in=ATTENDED, session__status=SessionStatus.DELIVERED
        )
        .values("session__program_id")
        .annotate(n=Count("id"))
        .values_list("session__program_id", "n")
    )
    outcomes = Outcome.objects.filter(program_id__in=ids, outcome_type__in=["placed", "promoted"])
    if scope.date_from:
        outcomes = outcomes.filter(occurred_on__gte=scope.date_from)
    if scope.date_to:
        outcomes = outcomes.filter(occurred_on__lte=scope.date_to)
    placed = dict(outcomes.values("program_id").annotate(n=Count("id")).values_list("program_id", "n"))
    granted = dict(
        Application.objects.filter(
            program_id__in=ids, status=ApplicationStatus.ACCEPTED, **_date_kwargs("decided_at", scope)
        )
        .values("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )

    result: list[dict[str, Any]] = []
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for program in programs:
        section = (program.config or {}).get("sroi") or {}
        coefficients = section.get("coefficients") or {}
        currency = section.get("currency", "")
        enabled = program.template.sroi_dimensions or {}
        units = {
            "integration_score": Decimal(milestones.get(program.pk, 0)),
            "language_proficiency": LANGUAGE_LEVEL_PER_SESSION * attended.get(program.pk, 0),
            "job_readiness": Decimal(placed.get(program.pk, 0)),
            "access": _waiver_amount(program) * granted.get(program.pk, 0),
        }
        dimensions = []
        program_total = Decimal("0")
        for dimension, coefficient in sorted(coefficients.items()):
            if enabled.get(dimension) is False or dimension not in units:
                continue
            coef = Decimal(str(coefficient))
            value = (units[dimension] * coef).quantize(CENT, rounding=ROUND_HALF_UP)
            program_total += value
            dimensions.append(
                {"dimension": dimension, "units": str(units[dimension]), "coefficient": str(coef), "value": str(value)}
            )
        if currency:
            totals[currency] += program_total
        result.append(
            {
                "program_id": program.pk,
                "program": program.name,
                "currency": currency,
                "dimensions": dimensions,
                "total": str(program_total.quantize(CENT)),
            }
        )
    return {"programs": result, "totals": {c: str(v.quantize(CENT)) for c, v in sorted(totals.items())}}


def volunteer_ids(scope: Scope) -> list[Any]:
    """The volunteers of the scope's programs (every program when none is named): people enrolled
    in a role the template marks as a volunteer role, mentor-side mentorship profiles, and hosts
    of the programs' sessions. Four queries."""
    programs = Program.objects.select_related("template").only("id", "template__roles")
    if scope.program_ids:
        programs = programs.filter(pk__in=scope.program_ids)
    roles = Q(pk__in=[])
    program_ids = []
    for program in programs:
        program_ids.append(program.pk)
        volunteer_roles = [
            r["role"]
            for r in program.template.roles or []
            if isinstance(r, dict) and r.get("platform_role") == PlatformRole.VOLUNTEER and r.get("role")
        ]
        if volunteer_roles:
            roles |= Q(program_id=program.pk, role__in=volunteer_roles)
    ids = set(Enrollment.objects.filter(roles).values_list("user_id", flat=True))
    ids |= set(
        Profile.objects.filter(program_id__in=program_ids, kind=ProfileKind.MENTOR).values_list("user_id", flat=True)
    )
    ids |= set(
        Session.objects.filter(program_id__in=program_ids, host_id__isnull=False)
        .values_list("host_id", flat=True)
        .distinct()
    )
    return sorted(ids, key=str)


def program_impact(scope: Scope) -> dict[str, Any]:
    """Volunteer impact and social return of the scope's programs: one row per volunteer and
    program (sorted by VIS, highest first, then e-mail), the program totals (`vis_by_program`) and
    `sroi(scope)`. A constant number of queries (17) whatever the number of volunteers."""
    ids = volunteer_ids(scope)
    vis = vis_for_volunteers(ids, Scope(scope.program_ids, scope.date_from, scope.date_to))
    emails = dict(get_user_model().objects.filter(pk__in=ids).values_list("id", "email"))
    volunteers = [
        {
            "user_id": str(uid),
            "email": emails.get(uid, ""),
            "program_id": str(entry["program_id"]),
            "program": entry["program"],
            "hours": round(sum(entry["hours"].values()), 4),
            "weighted_hours": entry["weighted_hours"],
            "checkins": entry["checkins"],
            "quality": entry["quality"],
            "outcome_lift": entry["outcome_lift"],
            "vis": entry["vis"],
        }
        for uid, person in vis.items()
        for entry in person["programs"]
    ]
    volunteers.sort(key=lambda row: (-row["vis"], row["email"], row["program"]))
    programs = [{**row, "program_id": str(row["program_id"])} for row in vis_by_program(vis)]
    return {"volunteers": volunteers, "programs": programs, "sroi": sroi(scope)}


def _waiver_amount(program: Program) -> Decimal:
    amount = ((program.config or {}).get("waiver") or {}).get("amount")
    return Decimal(str(amount)) if amount is not None else Decimal("0")


def _date_kwargs(field: str, scope: Scope) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if scope.start:
        kwargs[f"{field}__gte"] = scope.start
    if scope.end:
        kwargs[f"{field}__lt"] = scope.end
    return kwargs
