"""Shares with Wilson intervals: honest at 0% and 100% on a few items, and a stated rule for none."""

import pytest

from cope_eval.metrics import proportion


@pytest.mark.parametrize("count, n, low, high", [
    (0, 10, 0.0, 0.27753),  # 0 of 10 could still be more than a quarter
    (6, 6, 0.60967, 1.0),
    (5, 10, 0.23659, 0.76341),
])
def test_wilson_interval(count, n, low, high):
    p = proportion(count, n)
    assert (p.count, p.n, p.estimate) == (count, n, count / n)
    assert (p.low, p.high) == (pytest.approx(low, abs=1e-5), pytest.approx(high, abs=1e-5))


def test_a_wider_interval_at_higher_confidence():
    assert proportion(3, 20, confidence=0.99).high > proportion(3, 20).high


def test_no_items_is_the_stated_value_and_the_whole_unit_interval():
    p = proportion(0, 0)
    assert (p.estimate, p.low, p.high) == (0.0, 0.0, 1.0)
    assert proportion(0, 0, zero_division=1.0).estimate == 1.0


@pytest.mark.parametrize("count, n", [(-1, 3), (4, 3)])
def test_counts_outside_0_to_n_are_refused(count, n):
    with pytest.raises(ValueError, match=r"\[0, n\]"):
        proportion(count, n)
