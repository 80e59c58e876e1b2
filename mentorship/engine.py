"""The matching engine: pure computation, no database.

Every (mentee, mentor) pair gets a score in [0, 1]: the weighted mean of the criteria that apply
to the mentee (a need the mentee did not state does not count; a need the mentor cannot meet
scores 0). Hard constraints remove pairs outright. The optimal assignment maximises the total
score of the proposed pairs under each mentor's free places, as a min-cost flow:

    source -> each mentee (capacity 1) -> each eligible mentor (cost -score) -> sink

with a zero-cost mentee -> sink arc, so a mentee may stay unmatched. With `fairness` f > 0, a
mentor's k-th place costs f x 0.1 x (k - 1) score points more than the first (convex costs), which
spreads mentees across mentors; each pair then also earns the dearest place's cost back, so fairness
moves mentees between mentors but never leaves one unmatched while a fitting place is free. Scores
are scaled to integers (SCALE) for the solver.

Scoring is vectorised with numpy (matrices of mentees x mentors), so 2,000 x 500 pairs score in
well under a second; explanations are written only for the chosen pairs and the unmatched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from ortools.graph.python import min_cost_flow

SCALE = 10_000
CRITERIA = ("language", "skills", "goals", "industry", "timezone", "availability")
DEFAULT_WEIGHTS = {"language": 0.3, "skills": 0.3, "goals": 0.1, "industry": 0.1, "timezone": 0.2, "availability": 0}
FAIRNESS_STEP = 0.1  # score points each further place of a mentor costs at fairness 1
AVAILABILITY_TARGET_HOURS = 4.0  # weekly shared hours that count as a perfect fit


@dataclass
class Person:
    """One side's features, as the engine sees them."""

    user_id: Any
    label: str = ""
    languages: Sequence[str] = ()
    skills: Sequence[str] = ()
    goals: Sequence[str] = ()
    industries: Sequence[str] = ()
    timezone: str = "UTC"
    capacity: int = 1  # mentors: free places now
    avoid: Sequence[Any] = ()
    availability: int = 0  # bitset of free half-hours in the reference week (bit i = slot i)


@dataclass
class Settings:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    min_score: float = 0.0
    shared_language: bool = True
    max_timezone_hours: float | None = None
    fairness: float = 0.0
    availability_target_hours: float = AVAILABILITY_TARGET_HOURS

    @classmethod
    def from_config(cls, matching: dict[str, Any] | None) -> Settings:
        matching = matching or {}
        weights = {name: 0.0 for name in CRITERIA}
        weights.update({k: float(v) for k, v in (matching.get("weights") or DEFAULT_WEIGHTS).items() if k in CRITERIA})
        hard = matching.get("hard_constraints") or {}
        return cls(
            weights=weights,
            min_score=float(matching.get("min_score", 0.0)),
            shared_language=bool(hard.get("shared_language", True)),
            max_timezone_hours=hard.get("max_timezone_hours"),
            fairness=float(matching.get("fairness", 0.0)),
            availability_target_hours=float(matching.get("availability_target_hours", AVAILABILITY_TARGET_HOURS)),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "min_score": self.min_score,
            "hard_constraints": {
                "shared_language": self.shared_language,
                "max_timezone_hours": self.max_timezone_hours,
            },
            "fairness": self.fairness,
            "availability_target_hours": self.availability_target_hours,
        }


@dataclass
class Proposal:
    mentee_id: Any
    mentor_id: Any
    score: float
    explanation: dict[str, Any]


@dataclass
class Result:
    proposals: list[Proposal]
    unmatched: list[dict[str, Any]]
    total_score: float
    greedy_score: float
    pairs_considered: int
    eligible_pairs: int
    solve_seconds: float = 0.0


# --- Features -----------------------------------------------------------------------------------


def _norm(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values or ():
        text = str(value).strip().lower()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _incidence(people: Sequence[Person], attr: str, vocab: dict[str, int]) -> np.ndarray:
    matrix = np.zeros((len(people), max(len(vocab), 1)), dtype=np.float32)
    for row, person in enumerate(people):
        for value in _norm(getattr(person, attr)):
            column = vocab.get(value)
            if column is not None:
                matrix[row, column] = 1.0
    return matrix


def _vocab(*groups: Sequence[Person], attr: str) -> dict[str, int]:
    vocab: dict[str, int] = {}
    for people in groups:
        for person in people:
            for value in _norm(getattr(person, attr)):
                vocab.setdefault(value, len(vocab))
    return vocab


_OFFSETS: dict[tuple[str, int], float] = {}


def utc_offset_hours(zone: str, at: datetime) -> float:
    # Keyed by the minute, not the day: a DST change happens at some hour of a day (and a
    # half-hour zone changes on a half hour), so two runs on one day may see different offsets.
    key = (zone, int(at.timestamp()) // 60)
    if len(_OFFSETS) > 100_000:
        _OFFSETS.clear()
    if key not in _OFFSETS:
        try:
            offset = at.astimezone(ZoneInfo(zone)).utcoffset()
        except (KeyError, ValueError):  # an unknown zone counts as UTC
            offset = None
        _OFFSETS[key] = offset.total_seconds() / 3600 if offset is not None else 0.0
    return _OFFSETS[key]


def zone_distance(a: float, b: float) -> float:
    """Hours between two UTC offsets, the short way round the clock."""
    diff = abs(a - b) % 24
    return min(diff, 24 - diff)


def _bits(value: int, slots: int = 336) -> np.ndarray:
    raw = value.to_bytes((slots + 7) // 8, "little")
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:slots].astype(np.float32)


# --- Scoring ------------------------------------------------------------------------------------


@dataclass
class Scored:
    score: np.ndarray  # mentees x mentors, in [0, 1]
    eligible: np.ndarray  # bool: passes every hard constraint and the minimum score
    parts: dict[str, np.ndarray]  # criterion -> mentees x mentors sub-scores
    applies: dict[str, np.ndarray]  # criterion -> mentees (bool): the mentee stated this need
    masks: dict[str, np.ndarray]  # hard constraint -> mentees x mentors (bool: passes)
    offsets: tuple[np.ndarray, np.ndarray]
    overlap_hours: np.ndarray | None


def score_pairs(
    mentees: Sequence[Person],
    mentors: Sequence[Person],
    settings: Settings,
    *,
    blocked: set[tuple[Any, Any]] | None = None,
    at: datetime,
) -> Scored:
    """Score every pair and apply the hard constraints. `blocked` holds (mentee_id, mentor_id)
    pairs never to propose (ended badly, rejected, already live)."""
    n, m = len(mentees), len(mentors)
    parts: dict[str, np.ndarray] = {}
    applies: dict[str, np.ndarray] = {}

    def overlap(attr: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        vocab = _vocab(mentees, mentors, attr=attr)
        a, b = _incidence(mentees, attr, vocab), _incidence(mentors, attr, vocab)
        shared = a @ b.T
        return shared, a.sum(axis=1), b.sum(axis=1)

    shared_lang, mentee_langs, mentor_langs = overlap("languages")
    applies["language"] = mentee_langs > 0
    parts["language"] = (shared_lang > 0).astype(np.float32)
    for name, attr in (("skills", "skills"), ("goals", "goals")):
        shared, wanted, _ = overlap(attr)
        applies[name] = wanted > 0
        parts[name] = shared / np.maximum(wanted, 1)[:, None]
    shared_ind, mentee_ind, _ = overlap("industries")
    applies["industry"] = mentee_ind > 0
    parts["industry"] = (shared_ind > 0).astype(np.float32)

    mentee_off = np.array([utc_offset_hours(p.timezone, at) for p in mentees], dtype=np.float32)
    mentor_off = np.array([utc_offset_hours(p.timezone, at) for p in mentors], dtype=np.float32)
    diff = np.abs(mentee_off[:, None] - mentor_off[None, :]) % 24
    distance = np.minimum(diff, 24 - diff)
    applies["timezone"] = np.ones(n, dtype=bool)
    parts["timezone"] = 1.0 - np.minimum(distance, 12.0) / 12.0

    overlap_hours = None
    applies["availability"] = np.array([p.availability != 0 for p in mentees], dtype=bool)
    if settings.weights.get("availability", 0) > 0 and applies["availability"].any():
        a = np.stack([_bits(p.availability) for p in mentees]) if n else np.zeros((0, 336), np.float32)
        b = np.stack([_bits(p.availability) for p in mentors]) if m else np.zeros((0, 336), np.float32)
        overlap_hours = (a @ b.T) / 2.0
        parts["availability"] = np.minimum(overlap_hours / max(settings.availability_target_hours, 0.5), 1.0)
    else:
        parts["availability"] = np.zeros((n, m), dtype=np.float32)

    numerator = np.zeros((n, m), dtype=np.float32)
    denominator = np.zeros(n, dtype=np.float32)
    for name in CRITERIA:
        weight = float(settings.weights.get(name, 0.0))
        if weight <= 0:
            continue
        numerator += weight * parts[name] * applies[name][:, None]
        denominator += weight * applies[name]
    score = np.where(denominator[:, None] > 0, numerator / np.maximum(denominator, 1e-9)[:, None], 0.0)
    score = np.clip(np.round(score, 4), 0.0, 1.0)

    masks: dict[str, np.ndarray] = {}
    mentor_ids = [p.user_id for p in mentors]
    capacity = np.array([p.capacity > 0 for p in mentors], dtype=bool)
    masks["capacity"] = np.broadcast_to(capacity[None, :], (n, m))
    if settings.shared_language:
        masks["language"] = (shared_lang > 0) | ~applies["language"][:, None]
    if settings.max_timezone_hours is not None:
        masks["timezone"] = distance <= float(settings.max_timezone_hours)
    excluded = np.zeros((n, m), dtype=bool)
    column = {uid: j for j, uid in enumerate(mentor_ids)}
    row = {p.user_id: i for i, p in enumerate(mentees)}
    for i, person in enumerate(mentees):
        if person.user_id in column:
            excluded[i, column[person.user_id]] = True
        for other in person.avoid:
            j = column.get(other)
            if j is not None:
                excluded[i, j] = True
    for j, person in enumerate(mentors):
        for other in person.avoid:
            i = row.get(other)
            if i is not None:
                excluded[i, j] = True
    for mentee_id, mentor_id in blocked or ():
        i, j = row.get(mentee_id), column.get(mentor_id)
        if i is not None and j is not None:
            excluded[i, j] = True
    masks["exclusions"] = ~excluded
    masks["min_score"] = score >= settings.min_score

    eligible = np.ones((n, m), dtype=bool)
    for mask in masks.values():
        eligible &= mask
    if settings.min_score <= 0:
        eligible &= score > 0
    return Scored(score, eligible, parts, applies, masks, (mentee_off, mentor_off), overlap_hours)


# --- Assignment ---------------------------------------------------------------------------------


def coverage_bonus(capacities: Sequence[int], fairness: float) -> int:
    """What each pair earns with fairness on (solver units): the cost of the dearest place."""
    if fairness <= 0 or not len(capacities):
        return 0
    return int(round(fairness * FAIRNESS_STEP * SCALE)) * max(int(max(capacities)) - 1, 0)


def solve(scored: Scored, capacities: Sequence[int], fairness: float = 0.0) -> list[tuple[int, int]]:
    """The (mentee index, mentor index) pairs of a maximum-total-score assignment."""
    n, m = scored.score.shape
    rows, cols = np.nonzero(scored.eligible)
    if len(rows) == 0:
        return []
    source, sink = 0, 1 + n + m
    mentee_node = 1 + np.arange(n, dtype=np.int64)
    mentor_node = 1 + n + np.arange(m, dtype=np.int64)
    tails = [np.zeros(n, dtype=np.int64), mentee_node[rows], mentee_node]
    heads = [mentee_node, mentor_node[cols], np.full(n, sink, dtype=np.int64)]
    caps = [np.ones(n, dtype=np.int64), np.ones(len(rows), dtype=np.int64), np.ones(n, dtype=np.int64)]
    costs = [
        np.zeros(n, dtype=np.int64),
        -np.rint(scored.score[rows, cols] * SCALE).astype(np.int64),
        np.zeros(n, dtype=np.int64),
    ]
    capacity = np.array(capacities, dtype=np.int64)
    if fairness > 0:
        step = int(round(fairness * FAIRNESS_STEP * SCALE))
        # Every pair also earns the dearest place's cost back, so a pair is always worth more than
        # leaving its mentee unmatched: fairness moves mentees between mentors, never out of a match.
        costs[1] = costs[1] - coverage_bonus(capacities, fairness)
        for k in range(int(capacity.max(initial=0))):
            holders = np.nonzero(capacity > k)[0]
            tails.append(mentor_node[holders])
            heads.append(np.full(len(holders), sink, dtype=np.int64))
            caps.append(np.ones(len(holders), dtype=np.int64))
            costs.append(np.full(len(holders), step * k, dtype=np.int64))
    else:
        tails.append(mentor_node)
        heads.append(np.full(m, sink, dtype=np.int64))
        caps.append(np.maximum(capacity, 0))
        costs.append(np.zeros(m, dtype=np.int64))
    flow = min_cost_flow.SimpleMinCostFlow()
    first_pair_arc = n
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(caps), np.concatenate(costs)
    )
    flow.set_node_supply(source, n)
    flow.set_node_supply(sink, -n)
    status = flow.solve()
    if status != flow.OPTIMAL:  # cannot happen with the bypass arcs; fail loudly rather than guess
        raise RuntimeError(f"The matching solver stopped with status {status}.")
    arcs = np.arange(first_pair_arc, first_pair_arc + len(rows), dtype=np.int64)
    chosen = flow.flows(arcs) > 0
    return list(zip(rows[chosen].tolist(), cols[chosen].tolist(), strict=True))


def greedy(scored: Scored, capacities: Sequence[int]) -> list[tuple[int, int]]:
    """The baseline: take eligible pairs best score first while both sides have room."""
    rows, cols = np.nonzero(scored.eligible)
    order = np.argsort(-scored.score[rows, cols], kind="stable")
    left = list(capacities)
    taken: set[int] = set()
    pairs: list[tuple[int, int]] = []
    n = scored.score.shape[0]
    for index in order.tolist():
        i, j = int(rows[index]), int(cols[index])
        if i in taken or left[j] <= 0:
            continue
        taken.add(i)
        left[j] -= 1
        pairs.append((i, j))
        if len(taken) == n:
            break
    return pairs


# --- Explanations -------------------------------------------------------------------------------


def _common(a: Sequence[str], b: Sequence[str]) -> list[str]:
    other = set(_norm(b))
    return [value for value in _norm(a) if value in other]


def explain(i: int, j: int, mentee: Person, mentor: Person, scored: Scored, settings: Settings) -> dict[str, Any]:
    """Why this pair scores what it does: each criterion's weight, sub-score and a sentence."""
    criteria: dict[str, Any] = {}
    for name in CRITERIA:
        weight = float(settings.weights.get(name, 0.0))
        if weight <= 0:
            continue
        applies = bool(scored.applies[name][i])
        value = round(float(scored.parts[name][i, j]), 4)
        if name == "language":
            shared = _common(mentee.languages, mentor.languages)
            detail = f"Shared: {', '.join(shared)}." if shared else "No shared language."
        elif name in ("skills", "goals"):
            wanted = _norm(getattr(mentee, name))
            shared = _common(wanted, getattr(mentor, name))
            detail = f"{len(shared)} of {len(wanted)} wanted: {', '.join(shared) or 'none'}."
        elif name == "industry":
            shared = _common(mentee.industries, mentor.industries)
            detail = f"Same industry: {', '.join(shared)}." if shared else "Different industries."
        elif name == "timezone":
            hours = zone_distance(float(scored.offsets[0][i]), float(scored.offsets[1][j]))
            detail = f"{hours:g} h apart ({mentee.timezone} / {mentor.timezone})."
        else:
            hours = float(scored.overlap_hours[i, j]) if scored.overlap_hours is not None else 0.0
            detail = f"{hours:g} h a week free at the same time."
        if not applies:
            detail = f"Not stated by the mentee; not counted. {detail}"
        criteria[name] = {"weight": weight, "score": value, "counted": applies, "detail": detail}
    return {
        "score": round(float(scored.score[i, j]), 4),
        "criteria": criteria,
        "constraints": ["free place", "no exclusion", *(["shared language"] if settings.shared_language else [])],
        "rule": "Weighted mean of the criteria the mentee stated; pairs maximise the total score.",
    }


def unmatched_reason(i: int, scored: Scored, mentors: Sequence[Person], settings: Settings) -> dict[str, Any]:
    """Why mentee i got no proposal, naming the first hard constraint no mentor passes."""
    passing = np.ones(scored.score.shape[1], dtype=bool)
    labels = {
        "capacity": "No mentor has a free place.",
        "language": "No mentor with a free place shares a language with them.",
        "timezone": f"No remaining mentor is within {settings.max_timezone_hours} h of their time zone.",
        "exclusions": "Every remaining mentor is excluded (avoid lists, declared conflicts, pairs that ended badly "
        "or were rejected).",
    }
    for name in ("capacity", "language", "timezone", "exclusions"):
        if name not in scored.masks:
            continue
        passing &= scored.masks[name][i]
        if not passing.any():
            return {"code": f"no_{name}" if name != "capacity" else "no_capacity", "reason": labels[name]}
    candidates = np.nonzero(passing)[0]
    best = candidates[np.argmax(scored.score[i, candidates])]
    best_score = round(float(scored.score[i, best]), 4)
    if not scored.eligible[i].any():
        return {
            "code": "below_min_score",
            "reason": f"No pair reaches the minimum score {settings.min_score:g}; the best is {best_score:g} "
            f"with {mentors[best].label or mentors[best].user_id}.",
            "best_mentor_id": str(mentors[best].user_id),
            "best_score": best_score,
        }
    return {
        "code": "capacity_taken",
        "reason": f"The {int(scored.eligible[i].sum())} mentors who fit are proposed to mentees the total score "
        f"favours; the best for them is {mentors[best].label or mentors[best].user_id} ({best_score:g}).",
        "best_mentor_id": str(mentors[best].user_id),
        "best_score": best_score,
    }


def match(
    mentees: Sequence[Person],
    mentors: Sequence[Person],
    settings: Settings,
    *,
    at: datetime,
    blocked: set[tuple[Any, Any]] | None = None,
    with_greedy: bool = True,
) -> Result:
    """Score, solve and explain: the proposals of an optimal assignment and the unmatched."""
    import time

    started = time.perf_counter()
    scored = score_pairs(mentees, mentors, settings, blocked=blocked, at=at)
    capacities = [max(int(p.capacity), 0) for p in mentors]
    pairs = solve(scored, capacities, settings.fairness)
    solve_seconds = time.perf_counter() - started
    greedy_total = 0.0
    if with_greedy:
        greedy_total = sum(float(scored.score[i, j]) for i, j in greedy(scored, capacities))  # float64, not float32
    proposals = [
        Proposal(
            mentees[i].user_id,
            mentors[j].user_id,
            round(float(scored.score[i, j]), 4),
            explain(i, j, mentees[i], mentors[j], scored, settings),
        )
        for i, j in sorted(pairs)
    ]
    matched = {i for i, _ in pairs}
    unmatched = []
    for i, person in enumerate(mentees):
        if i not in matched:
            unmatched.append({"mentee_id": str(person.user_id), **unmatched_reason(i, scored, mentors, settings)})
    return Result(
        proposals=proposals,
        unmatched=unmatched,
        total_score=round(sum(p.score for p in proposals), 4),
        greedy_score=round(greedy_total, 4),
        pairs_considered=len(mentees) * len(mentors),
        eligible_pairs=int(scored.eligible.sum()),
        solve_seconds=solve_seconds,
    )
