"""Mentor matching at scale. Prints one JSON line per figure:

- the engine alone (no database) on random but seeded profiles (languages, skills, goals,
  industries, time zones, mentors' capacities 1-5): 2,000 mentees x 500 mentors and 5,000 x
  1,000. Each line gives the whole run (`seconds`: scoring, the optimal min-cost-flow assignment,
  explanations), its phases, the total score of the optimal proposals against the greedy
  baseline, and the proposals count;
- fairness: 1,000 mentees x 500 mentors (more places than mentees) at fairness 0 and 0.5, to show
  how many mentors get mentees and the most any one mentor gets;
- `matches_propose` end to end through the database for 2,000 x 500 (profiles bulk-created):
  reading the pool, solving, writing the batch and its proposals, with the query count.

Target: optimal proposals for 2,000 x 500 in under 3 s.

    python bench/matching.py [--sizes 2000x500,5000x1000] [--fairness 1000x500] [--e2e 2000x500] [--seed 20260302]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from _setup import SCALE, report, setup

DOMAIN = "mentors.bench.local"
PROGRAM_NAME = "Bench mentorship matching"
LANGUAGES = ["en", "uk", "de", "ar", "fr", "es", "ru", "tr", "pl", "fa"]
LANGUAGE_WEIGHTS = [30, 20, 15, 8, 6, 6, 6, 4, 3, 2]
SKILLS = [
    "python", "sql", "excel", "java", "javascript", "design", "ux", "marketing", "sales", "accounting",
    "law", "nursing", "teaching", "logistics", "welding", "electrics", "cooking", "german b2", "english c1",
    "cv writing", "interviews", "networking", "project management", "data analysis", "cloud", "security",
    "hr", "public speaking", "writing", "photography", "video", "translation", "customer service",
    "retail", "driving", "carpentry", "plumbing", "childcare", "elder care", "bookkeeping",
]  # fmt: skip
GOALS = [
    "first job", "career change", "promotion", "start a business", "language", "recognition of degree",
    "apprenticeship", "university", "networking", "confidence",
]  # fmt: skip
INDUSTRIES = [
    "tech", "health", "education", "finance", "retail", "hospitality", "construction", "manufacturing",
    "logistics", "public sector", "media", "energy",
]  # fmt: skip
ZONES = [
    "Europe/Berlin", "Europe/Kyiv", "Europe/London", "Europe/Istanbul", "Asia/Dubai", "Asia/Kolkata",
    "Asia/Kathmandu", "Asia/Tehran", "Africa/Cairo", "Africa/Lagos", "America/New_York", "America/Toronto",
    "America/St_Johns", "America/Sao_Paulo", "Australia/Adelaide",
]  # fmt: skip
ZONE_WEIGHTS = [30, 15, 10, 6, 4, 4, 2, 2, 4, 3, 6, 4, 1, 3, 1]
WEIGHTS = {"language": 0.3, "skills": 0.3, "timezone": 0.2, "industry": 0.1, "goals": 0.1, "availability": 0.0}
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _languages(rng: random.Random) -> list[str]:
    count = rng.choice([1, 1, 2, 2, 3])
    return sorted(set(rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS, k=count)))


def profiles(rng: random.Random, mentees: int, mentors: int) -> tuple[list[dict], list[dict]]:
    """Seeded random profile fields: mentees state 1-4 wanted skills, 0-2 goals and 0-1 industry;
    mentors offer 2-8 skills, 1-4 goals and 1-2 industries, with 1-5 places."""

    def person(kind: str) -> dict:
        mentor = kind == "mentor"
        return {
            "languages": _languages(rng),
            "skills": rng.sample(SKILLS, rng.randint(2, 8) if mentor else rng.randint(1, 4)),
            "goals": rng.sample(GOALS, rng.randint(1, 4) if mentor else rng.randint(0, 2)),
            "industries": rng.sample(INDUSTRIES, rng.randint(1, 2) if mentor else rng.randint(0, 1)),
            "timezone": rng.choices(ZONES, weights=ZONE_WEIGHTS)[0],
            "capacity": rng.randint(1, 5) if mentor else 1,
        }

    return [person("mentee") for _ in range(mentees)], [person("mentor") for _ in range(mentors)]


def engine_bench(mentee_count: int, mentor_count: int, seed: int, fairness: float = 0.0) -> None:
    from mentorship import engine

    rng = random.Random(seed)
    mentee_fields, mentor_fields = profiles(rng, mentee_count, mentor_count)
    mentees = [engine.Person(f"e{i}", **fields) for i, fields in enumerate(mentee_fields)]
    mentors = [engine.Person(f"m{i}", **fields) for i, fields in enumerate(mentor_fields)]
    settings = engine.Settings(weights=dict(WEIGHTS), min_score=0.3, fairness=fairness)
    engine.match(mentees[:50], mentors[:20], settings, at=AT)  # warm up (imports, time-zone cache)

    started = time.perf_counter()
    result = engine.match(mentees, mentors, settings, at=AT, with_greedy=False)
    seconds = time.perf_counter() - started

    # The phases, timed apart.
    t0 = time.perf_counter()
    scored = engine.score_pairs(mentees, mentors, settings, at=AT)
    t1 = time.perf_counter()
    capacities = [p.capacity for p in mentors]
    pairs = engine.solve(scored, capacities, settings.fairness)
    t2 = time.perf_counter()
    baseline = engine.greedy(scored, capacities)
    t3 = time.perf_counter()
    matched = {i for i, _ in pairs}
    for i, j in pairs:
        engine.explain(i, j, mentees[i], mentors[j], scored, settings)
    for i in range(len(mentees)):
        if i not in matched:
            engine.unmatched_reason(i, scored, mentors, settings)
    t4 = time.perf_counter()
    optimal_score = sum(float(scored.score[i, j]) for i, j in pairs)
    greedy_score = sum(float(scored.score[i, j]) for i, j in baseline)
    loads = Counter(j for _, j in pairs)
    assert round(optimal_score, 2) == round(result.total_score, 2), (optimal_score, result.total_score)
    if fairness == 0:
        assert optimal_score + 1e-6 >= greedy_score

    name = f"matching.engine.{mentee_count}x{mentor_count}"
    if fairness:
        comparison = {"baseline": name, "ratio_of": "mentors_used"}  # fairness 0 on the same pool
        name += f".fairness_{fairness:g}"
    else:
        # The greedy baseline (best pair first) on the same scores, its own figure.
        report(
            f"{name}.greedy",
            mentee_count * mentor_count,
            t3 - t2,
            proposals=len(baseline),
            total_score=round(greedy_score, 4),
        )
        comparison = {"baseline": f"{name}.greedy", "ratio_of": "total_score"}
    report(
        name,
        mentee_count * mentor_count,
        seconds,
        **comparison,
        mentees=mentee_count,
        mentors=mentor_count,
        places=sum(capacities),
        eligible_pairs=result.eligible_pairs,
        score_seconds=round(t1 - t0, 3),
        solve_seconds=round(t2 - t1, 3),
        greedy_seconds=round(t3 - t2, 3),
        explain_seconds=round(t4 - t3, 3),
        proposals=len(result.proposals),
        unmatched=len(result.unmatched),
        total_score=round(optimal_score, 4),
        greedy_score=round(greedy_score, 4),
        greedy_proposals=len(baseline),
        gain_over_greedy=round(optimal_score - greedy_score, 4),
        mean_score=round(optimal_score / max(len(pairs), 1), 4),
        mentors_used=len(loads),
        max_load=max(loads.values(), default=0),
        target_seconds=3.0 if (mentee_count, mentor_count) == (2000, 500) else None,
    )


# --- End to end ---------------------------------------------------------------------------------


def _cleanup() -> None:
    """Remove what an earlier run left: the bench program's matches, batches, profiles, people."""
    from django.db import connection

    program = "SELECT id FROM programs_program WHERE name = %s"
    with connection.cursor() as cursor:
        for table in ("mentorship_match", "mentorship_proposalbatch", "mentorship_profile"):
            cursor.execute(f"DELETE FROM {table} WHERE program_id IN ({program})", [PROGRAM_NAME])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", [f"%@{DOMAIN}"])


def _program():
    from programs.models import BeneficiaryGroup, Program
    from programs.services import beneficiary_group_create, program_create, program_set_status
    from templates_app.models import ProgramTemplate
    from templates_app.services import templates_seed_builtin

    program = Program.objects.filter(name=PROGRAM_NAME).first()
    if program is not None:
        return program
    templates_seed_builtin()
    group = BeneficiaryGroup.objects.filter(key="bench").first() or beneficiary_group_create(key="bench", name="Bench")
    template = ProgramTemplate.objects.get(template_key="mentorship-standard", version=1)
    program = program_create(
        template=template,
        name=PROGRAM_NAME,
        beneficiary_group=group,
        config_overrides={"matching": {"max_mentees_per_mentor": 5, "min_score": 0.3, "weights": WEIGHTS}},
    )
    program_set_status(program=program, status="active")
    return program


def e2e_bench(mentee_count: int, mentor_count: int, seed: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core import clock
    from mentorship.models import Match, Profile
    from mentorship.services import matches_propose

    _cleanup()
    program = _program()
    rng = random.Random(seed)
    mentee_fields, mentor_fields = profiles(rng, mentee_count, mentor_count)
    User = get_user_model()
    password = make_password(None)
    tag = uuid.uuid4().hex[:6]
    started = time.perf_counter()
    people = User.objects.bulk_create(
        [User(email=f"p{tag}-{i}@{DOMAIN}", password=password) for i in range(mentee_count + mentor_count)],
        batch_size=2000,
    )
    rows = [
        Profile(user=user, program=program, kind="mentee", **fields)
        for user, fields in zip(people[:mentee_count], mentee_fields, strict=True)
    ] + [
        Profile(user=user, program=program, kind="mentor", **fields)
        for user, fields in zip(people[mentee_count:], mentor_fields, strict=True)
    ]
    Profile.objects.bulk_create(rows, batch_size=2000)
    setup_seconds = time.perf_counter() - started

    real_now = clock.now
    clock.now = lambda: AT  # the same instant as the engine figures (time-zone offsets)
    try:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            batch = matches_propose(program=program)
        seconds = time.perf_counter() - started
    finally:
        clock.now = real_now
    proposals = Match.objects.filter(batch=batch).count()
    report(
        f"matching.propose_e2e.{mentee_count}x{mentor_count}",
        mentee_count * mentor_count,
        seconds,
        baseline=f"matching.engine.{mentee_count}x{mentor_count}",
        mentees=mentee_count,
        mentors=mentor_count,
        setup_seconds=round(setup_seconds, 3),
        engine_solve_ms=batch.solve_ms,
        proposals=proposals,
        unmatched=len(batch.unmatched),
        total_score=batch.total_score,
        greedy_score=batch.greedy_score,
        queries=len(ctx.captured_queries),
    )
    _cleanup()


def _size(text: str) -> tuple[int, int]:
    mentees, mentors = text.lower().split("x")
    return int(mentees), int(mentors)


def _scaled(sizes: str) -> str:
    """Default sizes times BENCH_SCALE (at least 20 x 5)."""
    return ",".join(
        f"{max(20, round(a * SCALE))}x{max(5, round(b * SCALE))}" for a, b in map(_size, filter(None, sizes.split(",")))
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=_scaled("2000x500,5000x1000"), help="Engine runs, mentees x mentors.")
    parser.add_argument("--fairness", default=_scaled("1000x500"), help="The fairness comparison ('' to skip).")
    parser.add_argument(
        "--e2e", default=_scaled("2000x500"), help="The end-to-end run through the database ('' to skip)."
    )
    parser.add_argument("--seed", type=int, default=20260302)
    args = parser.parse_args()
    setup()
    for text in filter(None, args.sizes.split(",")):
        engine_bench(*_size(text), args.seed)
    if args.fairness:
        for fairness in (0.0, 0.5):
            engine_bench(*_size(args.fairness), args.seed, fairness=fairness)
    if args.e2e:
        e2e_bench(*_size(args.e2e), args.seed)


if __name__ == "__main__":
    main()
