"""Review scores: the weighted total of one review, an application's summary, and the
reviewer-bias-corrected score.

- A review's total is the weighted mean of its counted criteria, each scaled to 0-100
  (`(score - scale_min) / (scale_max - scale_min) * 100`), so rubrics with different scales compare.
  Independent criteria are scored and shown, but left out of the total.
- Agreement is 1 - (highest total - lowest total) / 100 over an application's reviews (1: all
  reviewers gave the same total; 0: one gave 0 and another 100); none with fewer than two reviews.
- The corrected score removes each reviewer's harshness or leniency: every total is turned into a
  z-score against that reviewer's own totals in the program (mean and spread over everything they
  reviewed), the application's z-scores are averaged, and the average is put back on the 0-100
  scale with the program's overall mean and spread. A reviewer with fewer than two reviews, or who
  gave everyone the same total, is compared with the program overall instead.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from applications.definitions import criteria_for

FOUR_PLACES = Decimal("0.0001")


def q(value: float | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def score_errors(criteria: list[dict], track_key: str | None, scores: Any) -> dict[str, str]:
    if not isinstance(scores, dict):
        return {"scores": "Scores are an object keyed by criterion."}
    applicable = {c["key"]: c for c in criteria_for(criteria, track_key)}
    errors: dict[str, str] = {}
    for key, value in scores.items():
        criterion = applicable.get(key)
        if criterion is None:
            errors[f"scores/{key}"] = "Not a criterion of this rubric for this application."
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            errors[f"scores/{key}"] = "A number."
        elif not criterion["scale_min"] <= value <= criterion["scale_max"]:
            errors[f"scores/{key}"] = f"Between {criterion['scale_min']} and {criterion['scale_max']}."
    for key in applicable:
        if key not in scores:
            errors[f"scores/{key}"] = "Score this criterion."
    return errors


def weighted_total(criteria: list[dict], track_key: str | None, scores: dict[str, float]) -> Decimal:
    counted = [c for c in criteria_for(criteria, track_key) if not c["independent"]]
    weight = sum(Decimal(str(c["weight"])) for c in counted)
    total = sum(
        Decimal(str(c["weight"]))
        * (Decimal(str(scores[c["key"]])) - c["scale_min"])
        / (c["scale_max"] - c["scale_min"])
        * 100
        for c in counted
    )
    return q(total / weight)


def summary(totals: list[Decimal], recommendations: Iterable[str]) -> dict[str, Any]:
    tally: dict[str, int] = defaultdict(int)
    for recommendation in recommendations:
        tally[recommendation] += 1
    if not totals:
        return {"review_count": 0, "mean_score": None, "median_score": None, "agreement": None, "recommendations": {}}
    values = [float(t) for t in totals]
    return {
        "review_count": len(values),
        "mean_score": q(statistics.fmean(values)),
        "median_score": q(statistics.median(values)),
        "agreement": q(1 - (max(values) - min(values)) / 100) if len(values) > 1 else None,
        "recommendations": dict(sorted(tally.items())),
    }


def corrected_scores(reviews: Iterable[tuple[Any, Any, float]]) -> dict[Any, Decimal]:
    """`reviews` are (application id, reviewer id, total); returns application id -> corrected."""
    rows = [(app, reviewer, float(total)) for app, reviewer, total in reviews]
    if not rows:
        return {}
    all_totals = [t for _, _, t in rows]
    mean_all = statistics.fmean(all_totals)
    spread_all = statistics.pstdev(all_totals) if len(all_totals) > 1 else 0.0
    by_reviewer: dict[Any, list[float]] = defaultdict(list)
    for _, reviewer, total in rows:
        by_reviewer[reviewer].append(total)
    stats = {}
    for reviewer, totals in by_reviewer.items():
        spread = statistics.pstdev(totals) if len(totals) > 1 else 0.0
        stats[reviewer] = (statistics.fmean(totals), spread) if spread > 0 else (mean_all, spread_all)
    zs: dict[Any, list[float]] = defaultdict(list)
    for app, reviewer, total in rows:
        mean, spread = stats[reviewer]
        zs[app].append((total - mean) / spread if spread > 0 else 0.0)
    return {
        app: q(min(max(mean_all + spread_all * statistics.fmean(values), 0.0), 100.0)) for app, values in zs.items()
    }
