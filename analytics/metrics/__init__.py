"""Metric families. Each module exposes `compute(scope) -> dict` (JSON-ready values: ints,
floats rounded to 4 places or None when a rate has no denominator, lists of dicts) and its keys
are documented with exact formulas in docs/kpis.md."""
