"""The scoring functions: a review's weighted total (0-100, weights, independent criteria left
out, per-track criteria), score validation per criterion, an application's summary, and the
reviewer-bias-corrected score, checked against numbers worked out by hand from the formula in
applications/scoring.py."""

import math
import statistics
from decimal import Decimal

import pytest

from applications.definitions import normalise_criteria
from applications.scoring import corrected_scores, score_errors, summary, weighted_total

CRITERIA, _ = normalise_criteria(
    [
        {"key": "craft", "label": "Craft", "weight": 2, "scale_min": 1, "scale_max": 5},
        {"key": "voice", "label": "Voice", "weight": 1, "scale_min": 1, "scale_max": 5},
        {"key": "fit", "label": "Fit", "weight": 5, "independent": True},
        {"key": "dialogue", "label": "Dialogue", "weight": 1, "scale_min": 0, "scale_max": 10, "tracks": ["screen"]},
    ],
    {"screen", "stage"},
)


@pytest.mark.parametrize(
    ("track", "scores", "total"),
    [
        # (2 * (5-1)/4 * 100 + 1 * (1-1)/4 * 100) / 3 = 200 / 3
        (None, {"craft": 5, "voice": 1, "fit": 1}, Decimal("66.6667")),
        (None, {"craft": 1, "voice": 5, "fit": 5}, Decimal("33.3333")),
        (None, {"craft": 3, "voice": 3, "fit": 1}, Decimal("50.0000")),
        (None, {"craft": 1, "voice": 1, "fit": 5}, Decimal("0.0000")),
        (None, {"craft": 5, "voice": 5, "fit": 1}, Decimal("100.0000")),
        # Fractional scores: (2 * 3.5/4 * 100 + 0) / 3 = 58.3333...
        (None, {"craft": 4.5, "voice": 1, "fit": 1}, Decimal("58.3333")),
        # The screen track adds dialogue (0-10, weight 1): (2*75 + 1*50 + 1*30) / 4 = 57.5
        ("screen", {"craft": 4, "voice": 3, "fit": 2, "dialogue": 3}, Decimal("57.5000")),
        ("stage", {"craft": 4, "voice": 3, "fit": 2}, Decimal("66.6667")),
    ],
)
def test_weighted_total_is_normalised_and_leaves_independent_criteria_out(track, scores, total):
    assert weighted_total(CRITERIA, track, scores) == total


def test_independent_criterion_does_not_move_the_total():
    low = weighted_total(CRITERIA, None, {"craft": 4, "voice": 2, "fit": 1})
    high = weighted_total(CRITERIA, None, {"craft": 4, "voice": 2, "fit": 5})
    assert low == high == Decimal("58.3333")


@pytest.mark.parametrize(
    ("track", "scores", "errors"),
    [
        (None, {"craft": 5, "voice": 1, "fit": 3}, {}),
        (
            None,
            {"craft": 6, "voice": 0, "fit": 3},
            {"scores/craft": "Between 1 and 5.", "scores/voice": "Between 1 and 5."},
        ),
        (
            None,
            {"craft": "5", "voice": True, "fit": None},
            {f"scores/{k}": "A number." for k in ("craft", "voice", "fit")},
        ),
        (None, {"craft": 5, "voice": 1}, {"scores/fit": "Score this criterion."}),
        (
            None,
            {"craft": 5, "voice": 1, "fit": 3, "dialogue": 5},
            {"scores/dialogue": "Not a criterion of this rubric for this application."},
        ),
        (
            None,
            {"craft": 5, "voice": 1, "fit": 3, "humour": 5},
            {"scores/humour": "Not a criterion of this rubric for this application."},
        ),
        ("screen", {"craft": 5, "voice": 1, "fit": 3}, {"scores/dialogue": "Score this criterion."}),
        ("screen", {"craft": 5, "voice": 1, "fit": 3, "dialogue": 10.5}, {"scores/dialogue": "Between 0 and 10."}),
        (None, [5, 1, 3], {"scores": "Scores are an object keyed by criterion."}),
    ],
)
def test_score_errors_name_each_criterion(track, scores, errors):
    assert score_errors(CRITERIA, track, scores) == errors


def test_summary_mean_median_agreement_and_tally():
    three = summary([Decimal("50"), Decimal("100"), Decimal("60")], ["accept", "reject", "accept"])
    assert three == {
        "review_count": 3,
        "mean_score": Decimal("70.0000"),
        "median_score": Decimal("60.0000"),
        "agreement": Decimal("0.5000"),  # 1 - (100 - 50) / 100
        "recommendations": {"accept": 2, "reject": 1},
    }
    two = summary([Decimal("40"), Decimal("70.5")], ["waitlist", "abstain"])
    assert (two["mean_score"], two["median_score"], two["agreement"]) == (
        Decimal("55.2500"),
        Decimal("55.2500"),
        Decimal("0.6950"),
    )
    assert two["recommendations"] == {"abstain": 1, "waitlist": 1}
    one = summary([Decimal("33.3333")], ["accept"])
    assert (one["review_count"], one["mean_score"], one["median_score"], one["agreement"]) == (
        1,
        Decimal("33.3333"),
        Decimal("33.3333"),
        None,
    )
    assert summary([], []) == {
        "review_count": 0,
        "mean_score": None,
        "median_score": None,
        "agreement": None,
        "recommendations": {},
    }


def expected_corrected(rows: list[tuple[str, str, float]]) -> dict[str, Decimal]:
    """The documented formula, written out step by step: z-scores against each reviewer's own
    mean and (population) spread, averaged per application, put back on the program's scale."""
    totals = [t for _, _, t in rows]
    mean_all = sum(totals) / len(totals)
    spread_all = math.sqrt(sum((t - mean_all) ** 2 for t in totals) / len(totals))
    own: dict[str, list[float]] = {}
    for _, reviewer, total in rows:
        own.setdefault(reviewer, []).append(total)
    zs: dict[str, list[float]] = {}
    for app, reviewer, total in rows:
        mine = own[reviewer]
        mean = sum(mine) / len(mine)
        spread = math.sqrt(sum((t - mean) ** 2 for t in mine) / len(mine))
        if len(mine) < 2 or spread == 0:
            mean, spread = mean_all, spread_all
        zs.setdefault(app, []).append((total - mean) / spread if spread else 0.0)
    return {
        app: Decimal(str(min(max(mean_all + spread_all * sum(z) / len(z), 0.0), 100.0))).quantize(Decimal("0.0001"))
        for app, z in zs.items()
    }


def test_harsh_and_lenient_reviewers_are_put_on_one_scale():
    # The harsh reviewer read A and B, the lenient one C and D; each ranked their pair the same
    # way, so A ~ C and B ~ D once their habits are taken out.
    rows = [("A", "harsh", 20.0), ("B", "harsh", 40.0), ("C", "lenient", 70.0), ("D", "lenient", 90.0)]

    corrected = corrected_scores(rows)

    # Own means 30 and 80, spreads 10 and 10: z = -1, +1, -1, +1. Program mean 55, spread
    # sqrt((35² + 15² + 15² + 35²) / 4) = sqrt(725) = 26.92582...
    assert corrected == {
        "A": Decimal("28.0742"),
        "B": Decimal("81.9258"),
        "C": Decimal("28.0742"),
        "D": Decimal("81.9258"),
    }
    assert corrected == expected_corrected(rows)


def test_shared_applications_and_the_fallbacks():
    rows = [
        ("A", "harsh", 0.0),
        ("B", "harsh", 25.0),
        ("D", "harsh", 50.0),
        ("A", "lenient", 50.0),
        ("C", "lenient", 100.0),
        ("D", "lenient", 75.0),
        ("B", "flat", 50.0),  # gave everyone 50: compared with the program overall
        ("C", "flat", 50.0),
        ("E", "once", 80.0),  # one review only: compared with the program overall
    ]

    corrected = corrected_scores(rows)

    assert corrected == expected_corrected(rows)
    assert set(corrected) == {"A", "B", "C", "D", "E"}
    mean_all = statistics.fmean(t for *_, t in rows)
    spread_all = statistics.pstdev([t for *_, t in rows])
    # E's only reviewer counts as the program: z = (80 - mean) / spread, back to 80 exactly.
    assert corrected["E"] == Decimal("80.0000")
    # The flat reviewer's 50 becomes (50 - mean) / spread against the program.
    z_flat = (50 - mean_all) / spread_all
    z_harsh_b = (25 - 25) / statistics.pstdev([0, 25, 50])
    assert corrected["B"] == Decimal(str(mean_all + spread_all * (z_flat + z_harsh_b) / 2)).quantize(Decimal("0.0001"))


def test_corrected_scores_stay_within_0_and_100():
    rows = [(f"a{i}", "stingy", 0.0) for i in range(9)] + [("a9", "stingy", 10.0)]
    rows += [(f"b{i}", "generous", 100.0) for i in range(3)]

    corrected = corrected_scores(rows)

    # a9's z-score against the stingy reviewer is (10 - 1) / 3 = 3, far above the program's range.
    assert corrected["a9"] == Decimal("100.0000")
    assert corrected == expected_corrected(rows)
    assert all(Decimal(0) <= value <= Decimal(100) for value in corrected.values())
    assert corrected_scores([]) == {}
