"""The matching engine on its own (no database): per-criterion scores and their weighted mean,
hard constraints, an optimal assignment checked against brute force, fairness, explanations,
the reasons a mentee stays unmatched, and time-zone distances across DST and half-hour zones."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mentorship import engine
from mentorship.engine import Person, Settings

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _only(**weights: float) -> Settings:
    """Settings that count only the criteria named (the others weigh 0)."""
    return Settings(weights={name: weights.get(name, 0.0) for name in engine.CRITERIA})


def _skills(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


# --- Settings -----------------------------------------------------------------------------------


def test_settings_from_config_read_the_program_config_and_zero_the_unnamed_criteria():
    settings = Settings.from_config(
        {
            "weights": {"language": 0.5, "goals": 0.25, "unknown": 9},
            "min_score": 0.4,
            "hard_constraints": {"shared_language": False, "max_timezone_hours": 3},
            "fairness": 0.5,
            "availability_target_hours": 6,
        }
    )
    assert settings.as_dict() == {
        "weights": {"language": 0.5, "skills": 0.0, "goals": 0.25, "industry": 0.0, "timezone": 0.0, "availability": 0},
        "min_score": 0.4,
        "hard_constraints": {"shared_language": False, "max_timezone_hours": 3},
        "fairness": 0.5,
        "availability_target_hours": 6.0,
    }


def test_settings_from_an_empty_config_use_the_defaults():
    settings = Settings.from_config(None)
    assert settings.weights == {
        "language": 0.3,
        "skills": 0.3,
        "goals": 0.1,
        "industry": 0.1,
        "timezone": 0.2,
        "availability": 0.0,
    }
    assert (settings.min_score, settings.shared_language, settings.max_timezone_hours, settings.fairness) == (
        0.0,
        True,
        None,
        0.0,
    )


# --- Scores -------------------------------------------------------------------------------------


def test_each_criterion_scores_its_own_overlap():
    mentee = Person(
        "a",
        languages=["uk", "EN"],
        skills=["python", "sql", "go", "rust"],
        goals=["job", "cv"],
        industries=["fintech"],
        timezone="Europe/Kyiv",
    )
    mentor = Person(
        "x",
        languages=["en"],
        skills=["Python", " SQL ", "java"],
        goals=["cv"],
        industries=["FinTech", "retail"],
        timezone="Europe/London",
        capacity=2,
    )
    scored = engine.score_pairs([mentee], [mentor], Settings(), at=AT)
    parts = {name: round(float(value[0, 0]), 4) for name, value in scored.parts.items()}
    # Language and industry: any shared value; skills and goals: the share of the mentee's wants
    # the mentor offers; time zone: 1 - hours apart / 12 (Kyiv UTC+2, London UTC+0 in March).
    assert parts == {
        "language": 1.0,
        "skills": 0.5,
        "goals": 0.5,
        "industry": 1.0,
        "timezone": 0.8333,
        "availability": 0.0,
    }
    # Weighted mean of the default weights: (0.3 + 0.3*0.5 + 0.1*0.5 + 0.1 + 0.2*0.8333) / 1.0.
    assert float(scored.score[0, 0]) == pytest.approx(0.7667, abs=1e-6)


def test_the_mean_counts_only_the_needs_the_mentee_stated():
    stated = Person("a", languages=["en"], skills=["python", "sql"], timezone="UTC")
    mentor = Person("x", languages=["en"], skills=["python"], industries=["retail"], goals=["cv"], timezone="UTC")
    scored = engine.score_pairs([stated], [mentor], Settings(), at=AT)
    assert {name: bool(value[0]) for name, value in scored.applies.items()} == {
        "language": True,
        "skills": True,
        "goals": False,
        "industry": False,
        "timezone": True,
        "availability": False,
    }
    # Goals and industry are not stated: (0.3*1 + 0.3*0.5 + 0.2*1) / (0.3 + 0.3 + 0.2) = 0.8125.
    assert float(scored.score[0, 0]) == pytest.approx(0.8125, abs=1e-6)

    # The same mentor for a mentee who states an industry the mentor lacks: it counts, as 0.
    wants_industry = Person("b", languages=["en"], skills=["python", "sql"], industries=["fintech"], timezone="UTC")
    scored = engine.score_pairs([wants_industry], [mentor], Settings(), at=AT)
    assert float(scored.score[0, 0]) == pytest.approx(0.65 / 0.9, abs=1e-4)


def test_a_mentee_who_states_nothing_weighted_scores_zero_and_is_never_proposed():
    settings = _only(skills=1.0)
    scored = engine.score_pairs([Person("a")], [Person("x", skills=["python"])], settings, at=AT)
    assert (float(scored.score[0, 0]), bool(scored.eligible[0, 0])) == (0.0, False)


def test_availability_counts_shared_free_hours_against_the_target():
    # Slots are half-hours of the reference week: 8 shared slots = 4 hours = the default target.
    mentee = Person("a", availability=(1 << 12) - 1)  # slots 0-11: 6 hours
    half = Person("x", availability=(1 << 4) - 1)  # slots 0-3: 2 hours shared
    full = Person("y", availability=((1 << 20) - 1) ^ 0b11)  # slots 2-19: 10 shared slots, 5 hours
    none = Person("z")
    scored = engine.score_pairs([mentee], [half, full, none], _only(availability=1.0), at=AT)
    assert scored.overlap_hours.tolist() == [[2.0, 5.0, 0.0]]
    assert scored.score.tolist() == [[0.5, 1.0, 0.0]]
    # With weight 0 the windows are not even compared.
    scored = engine.score_pairs([mentee], [half], _only(skills=1.0), at=AT)
    assert scored.overlap_hours is None


# --- Hard constraints ---------------------------------------------------------------------------


def _eligible(mentees, mentors, settings=None, blocked=None) -> list[list[bool]]:
    scored = engine.score_pairs(mentees, mentors, settings or Settings(), blocked=blocked, at=AT)
    return scored.eligible.tolist()


def test_shared_language_is_required_unless_the_mentee_states_none_or_the_rule_is_off():
    de = Person("a", languages=["de"], skills=["python"])
    silent = Person("b", skills=["python"])
    mentor = Person("x", languages=["en"], skills=["python"])
    assert _eligible([de, silent], [mentor]) == [[False], [True]]
    relaxed = Settings()
    relaxed.shared_language = False
    assert _eligible([de, silent], [mentor], relaxed) == [[True], [True]]


def test_a_mentor_without_free_places_is_never_eligible():
    mentee = Person("a", languages=["en"])
    assert _eligible([mentee], [Person("x", languages=["en"], capacity=0), Person("y", languages=["en"])]) == [
        [False, True]
    ]


def test_avoid_lists_work_both_ways_and_blocked_pairs_are_excluded():
    a = Person("a", languages=["en"], avoid=["x"])
    b = Person("b", languages=["en"])
    c = Person("c", languages=["en"])
    x = Person("x", languages=["en"])
    y = Person("y", languages=["en"], avoid=["b"])
    z = Person("z", languages=["en"])
    assert _eligible([a, b, c], [x, y, z], blocked={("c", "z"), ("nobody", "x")}) == [
        [False, True, True],  # a avoids x
        [True, False, True],  # y avoids b
        [True, True, False],  # (c, z) ended badly or was rejected
    ]


def test_nobody_is_paired_with_themselves():
    both = Person("a", languages=["en"])
    assert _eligible([both], [Person("a", languages=["en"]), Person("x", languages=["en"])]) == [[False, True]]


def test_max_timezone_hours_keeps_pairs_within_the_limit():
    mentee = Person("a", languages=["en"], timezone="Europe/Kyiv")  # UTC+2 in March
    mentors = [
        Person("x", languages=["en"], timezone="Europe/London"),  # 2 h
        Person("y", languages=["en"], timezone="Asia/Dubai"),  # 2 h
        Person("z", languages=["en"], timezone="Asia/Tokyo"),  # 7 h
        Person("w", languages=["en"], timezone="America/Sao_Paulo"),  # 5 h
    ]
    settings = Settings()
    settings.max_timezone_hours = 2
    assert _eligible([mentee], mentors, settings) == [[True, True, False, False]]
    settings.max_timezone_hours = 5
    assert _eligible([mentee], mentors, settings) == [[True, True, False, True]]


def test_min_score_is_inclusive():
    mentee = Person("a", skills=_skills("s", 10))
    mentors = [Person("x", skills=_skills("s", 7)), Person("y", skills=_skills("s", 6))]
    settings = _only(skills=1.0)
    settings.min_score = 0.7
    scored = engine.score_pairs([mentee], mentors, settings, at=AT)
    assert scored.score.tolist() == [[pytest.approx(0.7), pytest.approx(0.6)]]
    assert scored.eligible.tolist() == [[True, False]]
    assert scored.masks["min_score"].tolist() == [[True, False]]


# --- Optimal assignment -------------------------------------------------------------------------


def _scored(score: np.ndarray, eligible: np.ndarray) -> engine.Scored:
    n, m = score.shape
    return engine.Scored(score, eligible, {}, {}, {}, (np.zeros(n), np.zeros(m)), None)


def _objective(pairs, score, capacities, fairness: float) -> int:
    """Total score minus the fairness cost plus the coverage bonus per pair, in the solver's
    integer units."""
    step = int(round(fairness * engine.FAIRNESS_STEP * engine.SCALE))
    bonus = step * max(max(capacities) - 1, 0) if fairness > 0 else 0
    loads = [0] * len(capacities)
    total = 0
    for i, j in pairs:
        total += int(round(score[i, j] * engine.SCALE)) + bonus
        loads[j] += 1
    return total - sum(step * load * (load - 1) // 2 for load in loads)


def _brute_force(score, eligible, capacities, fairness: float) -> int:
    n, m = score.shape
    best = 0
    for choice in itertools.product([None, *range(m)], repeat=n):
        loads = [0] * m
        pairs = []
        feasible = True
        for i, j in enumerate(choice):
            if j is None:
                continue
            if not eligible[i, j]:
                feasible = False
                break
            loads[j] += 1
            pairs.append((i, j))
        if feasible and all(load <= cap for load, cap in zip(loads, capacities, strict=True)):
            best = max(best, _objective(pairs, score, capacities, fairness))
    return best


def _check_feasible(pairs, eligible, capacities) -> None:
    mentees = [i for i, _ in pairs]
    assert len(mentees) == len(set(mentees)), "a mentee was proposed twice"
    for j, cap in enumerate(capacities):
        assert sum(1 for _, k in pairs if k == j) <= cap
    assert all(eligible[i, j] for i, j in pairs)


@st.composite
def instances(draw):
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 3))
    capacities = draw(st.lists(st.integers(1, 3), min_size=m, max_size=m))
    cents = draw(st.lists(st.integers(0, 100), min_size=n * m, max_size=n * m))
    allowed = draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))
    fairness = draw(st.sampled_from([0.0, 0.5, 1.0]))
    score = (np.array(cents, dtype=np.float64) / 100).reshape(n, m)
    eligible = np.array(allowed).reshape(n, m) & (score > 0)
    return score, eligible, capacities, fairness


@hypothesis_settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_solve_reaches_the_brute_force_optimum(instance):
    score, eligible, capacities, fairness = instance
    pairs = engine.solve(_scored(score, eligible), capacities, fairness)
    _check_feasible(pairs, eligible, capacities)
    assert _objective(pairs, score, capacities, fairness) == _brute_force(score, eligible, capacities, fairness)
    # The greedy baseline is feasible and never better than the optimum without fairness.
    baseline = engine.greedy(_scored(score, eligible), capacities)
    _check_feasible(baseline, eligible, capacities)
    if fairness == 0:
        assert _objective(baseline, score, capacities, 0) <= _objective(pairs, score, capacities, 0)


def _random_people(rng: random.Random, count: int, prefix: str, mentor: bool) -> list[Person]:
    pool = ["python", "sql", "design", "sales", "law", "cv", "german"]
    zones = ["Europe/Kyiv", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]
    return [
        Person(
            f"{prefix}{i}",
            languages=rng.sample(["en", "uk", "de"], rng.randint(1, 2)),
            skills=rng.sample(pool, rng.randint(0 if not mentor else 1, 4)),
            goals=rng.sample(["job", "network", "language"], rng.randint(0, 2)),
            industries=rng.sample(["fintech", "health", "retail"], rng.randint(0, 1)),
            timezone=rng.choice(zones),
            capacity=rng.randint(1, 3) if mentor else 1,
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("seed", range(25))
def test_match_on_random_profiles_is_optimal_and_reports_its_totals(seed):
    rng = random.Random(seed)
    mentees = _random_people(rng, rng.randint(2, 5), "a", mentor=False)
    mentors = _random_people(rng, rng.randint(1, 3), "x", mentor=True)
    settings = Settings(min_score=0.2)
    result = engine.match(mentees, mentors, settings, at=AT)
    scored = engine.score_pairs(mentees, mentors, settings, at=AT)
    capacities = [p.capacity for p in mentors]
    best = _brute_force(scored.score.astype(np.float64), scored.eligible, capacities, 0.0)
    assert round(result.total_score * engine.SCALE) == best
    assert result.total_score >= result.greedy_score
    assert len(result.proposals) + len(result.unmatched) == len(mentees)
    assert result.pairs_considered == len(mentees) * len(mentors)
    assert result.eligible_pairs == int(scored.eligible.sum())


def test_totals_are_summed_in_double_precision():
    # Scores are float32 matrices; summing hundreds of them in float32 drifts in the 4th decimal.
    rng = random.Random(0)
    mentees = _random_people(rng, 800, "a", mentor=False)
    mentors = _random_people(rng, 300, "x", mentor=True)
    settings = Settings(min_score=0.2)
    result = engine.match(mentees, mentors, settings, at=AT)
    scored = engine.score_pairs(mentees, mentors, settings, at=AT)
    baseline = engine.greedy(scored, [p.capacity for p in mentors])
    assert result.greedy_score == round(sum(float(scored.score[i, j]) for i, j in baseline), 4)
    assert result.total_score == round(sum(p.score for p in result.proposals), 4)
    assert result.total_score > result.greedy_score


def test_the_greedy_baseline_can_be_worse_than_the_optimum():
    # a fits x best (0.9) and y well (0.8); b fits only x (0.7). Greedy gives x to a and leaves b
    # out (0.9); the optimum gives y to a and x to b (1.5).
    a = Person("a", skills=_skills("s", 10))
    b = Person("b", skills=_skills("t", 10))
    x = Person("x", skills=_skills("s", 9) + _skills("t", 7))
    y = Person("y", skills=_skills("s", 8))
    settings = _only(skills=1.0)
    result = engine.match([a, b], [x, y], settings, at=AT)
    assert [(p.mentee_id, p.mentor_id, p.score) for p in result.proposals] == [("a", "y", 0.8), ("b", "x", 0.7)]
    assert (result.total_score, result.greedy_score) == (1.5, 0.9)
    scored = engine.score_pairs([a, b], [x, y], settings, at=AT)
    assert engine.greedy(scored, [1, 1]) == [(0, 0)]
    assert result.unmatched == []


def test_fairness_spreads_mentees_across_mentors():
    # x fits both mentees perfectly and has two places; y fits both at 0.95. Without fairness x
    # takes both (2.0 > 1.95); at fairness 1, x's second place costs 0.1, so y takes one (1.95 > 1.9).
    a = Person("a", skills=_skills("s", 20))
    b = Person("b", skills=_skills("s", 20))
    x = Person("x", skills=_skills("s", 20), capacity=2)
    y = Person("y", skills=_skills("s", 19), capacity=1)
    settings = _only(skills=1.0)
    result = engine.match([a, b], [x, y], settings, at=AT)
    assert [(p.mentee_id, p.mentor_id) for p in result.proposals] == [("a", "x"), ("b", "x")]
    assert result.total_score == 2.0

    settings.fairness = 1.0
    result = engine.match([a, b], [x, y], settings, at=AT)
    assert sorted(p.mentor_id for p in result.proposals) == ["x", "y"]
    assert result.total_score == 1.95

    # A small fairness does not outweigh the score difference.
    settings.fairness = 0.4
    result = engine.match([a, b], [x, y], settings, at=AT)
    assert [p.mentor_id for p in result.proposals] == ["x", "x"]


def test_fairness_never_leaves_a_mentee_unmatched_while_a_fitting_place_is_free():
    # x has five places and is the only mentor; five mentees fit well, the fifth weakly (0.3).
    # The fifth place costs 0.4 at fairness 1, more than the pair scores, yet the pair is made.
    strong = [Person(f"m{i}", skills=_skills("s", 10)) for i in range(4)]
    weak = Person("weak", skills=[*_skills("s", 3), *_skills("t", 7)])
    x = Person("x", skills=_skills("s", 10), capacity=5)
    settings = _only(skills=1.0)
    settings.fairness = 1.0

    result = engine.match([*strong, weak], [x], settings, at=AT)

    assert sorted(p.mentee_id for p in result.proposals) == ["m0", "m1", "m2", "m3", "weak"]
    assert [p.score for p in result.proposals if p.mentee_id == "weak"] == [0.3]
    assert result.unmatched == []
    assert engine.coverage_bonus([5, 2], 1.0) == 4000
    assert engine.coverage_bonus([5, 2], 0.0) == 0


def test_solve_with_nothing_eligible_proposes_nothing():
    scored = _scored(np.zeros((2, 2)), np.zeros((2, 2), dtype=bool))
    assert engine.solve(scored, [1, 1]) == []
    assert engine.greedy(scored, [1, 1]) == []


# --- Explanations -------------------------------------------------------------------------------


def test_an_explanation_gives_each_criterion_its_weight_score_and_sentence():
    mentee = Person(
        "a", languages=["uk", "en"], skills=["python", "sql", "go", "rust"], goals=["job"], timezone="Europe/Kyiv"
    )
    mentor = Person(
        "x",
        languages=["en"],
        skills=["Python", "SQL"],
        goals=["career"],
        industries=["fintech"],
        timezone="Europe/London",
    )
    settings = Settings()
    result = engine.match([mentee], [mentor], settings, at=AT)
    [proposal] = result.proposals
    # (0.3 + 0.3*0.5 + 0.1*0 + 0.2*(10/12)) / 0.9: industry is not stated, so not counted.
    assert proposal.score == 0.6852
    assert proposal.explanation == {
        "score": 0.6852,
        "criteria": {
            "language": {"weight": 0.3, "score": 1.0, "counted": True, "detail": "Shared: en."},
            "skills": {"weight": 0.3, "score": 0.5, "counted": True, "detail": "2 of 4 wanted: python, sql."},
            "goals": {"weight": 0.1, "score": 0.0, "counted": True, "detail": "0 of 1 wanted: none."},
            "industry": {
                "weight": 0.1,
                "score": 0.0,
                "counted": False,
                "detail": "Not stated by the mentee; not counted. Different industries.",
            },
            "timezone": {
                "weight": 0.2,
                "score": 0.8333,
                "counted": True,
                "detail": "2 h apart (Europe/Kyiv / Europe/London).",
            },
        },
        "constraints": ["free place", "no exclusion", "shared language"],
        "rule": "Weighted mean of the criteria the mentee stated; pairs maximise the total score.",
    }


def test_explanation_sentences_for_the_other_outcomes():
    mentee = Person("a", industries=["Health"], timezone="Asia/Kolkata", availability=(1 << 6) - 1, languages=["de"])
    mentor = Person("x", industries=["health"], timezone="Asia/Kathmandu", availability=(1 << 3) - 1)
    settings = Settings(
        weights={"language": 0.2, "industry": 0.2, "timezone": 0.2, "availability": 0.4}, shared_language=False
    )
    scored = engine.score_pairs([mentee], [mentor], settings, at=AT)
    explanation = engine.explain(0, 0, mentee, mentor, scored, settings)
    assert {name: c["detail"] for name, c in explanation["criteria"].items()} == {
        "language": "No shared language.",
        "industry": "Same industry: health.",
        "timezone": "0.25 h apart (Asia/Kolkata / Asia/Kathmandu).",
        "availability": "1.5 h a week free at the same time.",
    }
    assert explanation["constraints"] == ["free place", "no exclusion"]
    # (0.2*0 + 0.2*1 + 0.2*(1 - 0.25/12) + 0.4*(1.5/4)) / 1.0
    assert explanation["score"] == pytest.approx(0.2 + 0.2 * (1 - 0.25 / 12) + 0.15, abs=1e-4)


# --- Unmatched ----------------------------------------------------------------------------------


def test_each_unmatched_mentee_gets_the_first_rule_no_mentor_passes():
    settings = Settings()
    settings.max_timezone_hours = 3
    mentors = [
        Person("full", label="Full Mentor", languages=["uk"], capacity=0),
        Person("x", label="Xena", languages=["en"], skills=["python"], timezone="UTC"),
    ]
    mentees = [
        Person("german", languages=["de"], timezone="UTC"),
        Person("far", languages=["en"], timezone="Asia/Tokyo"),
        Person("avoider", languages=["en"], timezone="UTC", avoid=["x"]),
        Person("blocked", languages=["en"], timezone="UTC"),
    ]
    result = engine.match(mentees, mentors, settings, at=AT, blocked={("blocked", "x")})
    assert result.proposals == []
    assert result.unmatched == [
        {
            "mentee_id": "german",
            "code": "no_language",
            "reason": "No mentor with a free place shares a language with them.",
        },
        {"mentee_id": "far", "code": "no_timezone", "reason": "No remaining mentor is within 3 h of their time zone."},
        {
            "mentee_id": "avoider",
            "code": "no_exclusions",
            "reason": "Every remaining mentor is excluded (avoid lists, declared conflicts, pairs that ended badly "
            "or were rejected).",
        },
        {
            "mentee_id": "blocked",
            "code": "no_exclusions",
            "reason": "Every remaining mentor is excluded (avoid lists, declared conflicts, pairs that ended badly "
            "or were rejected).",
        },
    ]


def test_no_capacity_when_every_mentor_is_full():
    result = engine.match(
        [Person("a", languages=["en"])], [Person("x", languages=["en"], capacity=0)], Settings(), at=AT
    )
    assert result.unmatched == [{"mentee_id": "a", "code": "no_capacity", "reason": "No mentor has a free place."}]


def test_below_min_score_names_the_best_pair():
    settings = _only(skills=1.0)
    settings.min_score = 0.8
    mentee = Person("a", skills=_skills("s", 4))
    mentors = [Person("x", label="Xena", skills=_skills("s", 3)), Person("y", skills=_skills("s", 1))]
    result = engine.match([mentee], mentors, settings, at=AT)
    assert result.unmatched == [
        {
            "mentee_id": "a",
            "code": "below_min_score",
            "reason": "No pair reaches the minimum score 0.8; the best is 0.75 with Xena.",
            "best_mentor_id": "x",
            "best_score": 0.75,
        }
    ]


def test_capacity_taken_when_the_mentors_who_fit_went_to_others():
    settings = _only(skills=1.0)
    strong = Person("a", skills=["python"])
    weak = Person("b", skills=["python", "sql"])
    mentor = Person("x", label="Xena", skills=["python"])
    result = engine.match([strong, weak], [mentor], settings, at=AT)
    assert [(p.mentee_id, p.mentor_id) for p in result.proposals] == [("a", "x")]
    assert result.unmatched == [
        {
            "mentee_id": "b",
            "code": "capacity_taken",
            "reason": "The 1 mentors who fit are proposed to mentees the total score favours; the best for them is "
            "Xena (0.5).",
            "best_mentor_id": "x",
            "best_score": 0.5,
        }
    ]


# --- Time zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "at", "hours"),
    [
        ("Asia/Kolkata", datetime(2026, 1, 5, tzinfo=UTC), 5.5),
        ("Asia/Kathmandu", datetime(2026, 1, 5, tzinfo=UTC), 5.75),
        ("America/St_Johns", datetime(2026, 1, 5, tzinfo=UTC), -3.5),
        ("America/St_Johns", datetime(2026, 7, 5, tzinfo=UTC), -2.5),
        ("Australia/Adelaide", datetime(2026, 1, 5, tzinfo=UTC), 10.5),
        ("Australia/Adelaide", datetime(2026, 7, 5, tzinfo=UTC), 9.5),
        ("Australia/Lord_Howe", datetime(2026, 1, 5, tzinfo=UTC), 11.0),
        ("Australia/Lord_Howe", datetime(2026, 7, 5, tzinfo=UTC), 10.5),
        ("No/Such_Zone", datetime(2026, 1, 5, tzinfo=UTC), 0.0),
    ],
)
def test_utc_offsets_of_half_hour_zones_and_their_dst(zone, at, hours):
    assert engine.utc_offset_hours(zone, at) == hours


def test_the_offset_changes_at_the_dst_instant_not_per_day():
    # The UK moves to BST at 01:00 UTC on 29 March 2026: the same day gives two offsets.
    assert engine.utc_offset_hours("Europe/London", datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == 0.0
    assert engine.utc_offset_hours("Europe/London", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == 1.0
    # Adelaide leaves DST at 03:00 local (16:30 UTC) on 4 April 2026.
    assert engine.utc_offset_hours("Australia/Adelaide", datetime(2026, 4, 4, 16, 29, tzinfo=UTC)) == 10.5
    assert engine.utc_offset_hours("Australia/Adelaide", datetime(2026, 4, 4, 16, 30, tzinfo=UTC)) == 9.5


@pytest.mark.parametrize(
    ("first", "second", "hours"),
    [
        (2.0, 0.0, 2.0),
        (-3.5, 10.5, 10.0),  # 14 h one way is 10 h the other
        (14.0, -10.0, 0.0),  # Kiritimati and Honolulu share the wall clock, a day apart
        (12.0, -11.0, 1.0),
        (5.75, 5.5, 0.25),
    ],
)
def test_zone_distance_takes_the_short_way_round_the_clock(first, second, hours):
    assert engine.zone_distance(first, second) == hours


@pytest.mark.parametrize(
    ("at", "hours"),
    [
        (datetime(2026, 3, 2, 12, tzinfo=UTC), 5),  # both on standard time
        (datetime(2026, 3, 16, 12, tzinfo=UTC), 4),  # New York on DST from 8 March, London not until 29 March
        (datetime(2026, 4, 6, 12, tzinfo=UTC), 5),  # both on summer time
        (datetime(2026, 10, 27, 12, tzinfo=UTC), 4),  # London back on GMT on 25 October, New York on 1 November
    ],
)
def test_time_zone_score_follows_both_zones_dst(at, hours):
    mentee = Person("a", timezone="America/New_York")
    mentor = Person("x", timezone="Europe/London")
    scored = engine.score_pairs([mentee], [mentor], _only(timezone=1.0), at=at)
    assert float(scored.parts["timezone"][0, 0]) == pytest.approx(1 - hours / 12)
    explanation = engine.explain(0, 0, mentee, mentor, scored, _only(timezone=1.0))
    assert explanation["criteria"]["timezone"]["detail"] == f"{hours} h apart (America/New_York / Europe/London)."
