"""Hooks higher layers fill from `AppConfig.ready()`, so programs never imports them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# fn(campaign, new_max_enrollment) -> an error message, or None when the new maximum is fine.
CampaignCapacityCheck = Callable[[Any, int], "str | None"]
_capacity_checks: list[CampaignCapacityCheck] = []


def register_campaign_capacity_check(fn: CampaignCapacityCheck) -> None:
    if fn not in _capacity_checks:
        _capacity_checks.append(fn)


def campaign_capacity_errors(campaign: Any, new_max: int) -> list[str]:
    return [message for fn in _capacity_checks if (message := fn(campaign, new_max))]
