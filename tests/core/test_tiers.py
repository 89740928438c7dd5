"""core.tiers: a customer's tier in the configuration's spelling, or kept as sent with a problem."""

from __future__ import annotations

import pytest

from closeloop.core.tiers import TierReading, read_tier, tier_index, tiers_in_condition

INDEX = tier_index(["Gold", "Silver", "default", "gold", "Bronze"])


def test_the_index_holds_each_configured_tier_once_in_its_first_spelling_without_the_default_entry() -> None:
    assert INDEX == {"gold": "Gold", "silver": "Silver", "bronze": "Bronze"}


@pytest.mark.parametrize(
    ("sent", "kept"), [("gold", "Gold"), ("GOLD", "Gold"), ("Gold", "Gold"), ("silver ", "Silver")]
)
def test_a_known_tier_takes_the_configured_spelling(sent: str, kept: str) -> None:
    assert read_tier(sent, INDEX) == TierReading(kept, None)


def test_an_unknown_tier_is_kept_as_sent_and_named_in_a_problem() -> None:
    assert read_tier("Platinum", INDEX) == TierReading("Platinum", "customer.tier: unknown tier 'Platinum'")


def test_no_tier_is_no_problem() -> None:
    assert read_tier("", INDEX) == TierReading("", None)


def test_without_configured_tiers_every_tier_is_kept_silently() -> None:
    assert read_tier("Platinum", {}) == TierReading("Platinum", None)


def test_the_tiers_of_a_condition_tree_are_read_from_its_customer_leaves_at_any_depth() -> None:
    tree = {
        "any": [
            {"customer": {"tier": "Gold"}},
            {"all": [{"not": {"customer": {"tier": ["silver", "Bronze"]}}}, {"question": "tier", "equals": "Iron"}]},
        ]
    }
    assert tiers_in_condition(tree) == ["Gold", "silver", "Bronze"]
