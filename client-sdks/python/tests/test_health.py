"""Passive health's bookkeeping (`mosaic_rpc._health.Health`) on a clock of our own: a
failure ejects at once, timeouts only in a row, an answer resets, a trial is a test."""

from __future__ import annotations

import pytest

from mosaic_rpc._health import EJECT_FIRST, EJECT_MAX, TIMEOUTS_TO_EJECT, Health, Verdict


def test_the_rule_is_three_timeouts_and_one_second_doubling_to_thirty() -> None:
    # The same in the Rust and Java clients.
    assert (TIMEOUTS_TO_EJECT, EJECT_FIRST, EJECT_MAX) == (3, 1.0, 30.0)


def test_a_failure_ejects_at_once() -> None:
    health = Health()
    health.failed(100.0)
    assert health.ejected(100.0) and health.ejections == 1
    assert health.ejected(100.9) and not health.ejected(101.0)  # for 1 s
    assert health.last_failure == 100.0


def test_two_timeouts_in_a_row_do_not_eject_the_third_does() -> None:
    health = Health()
    health.timed_out(100.0)
    health.timed_out(100.5)
    assert not health.ejected(100.5) and health.available(100.5)
    assert health.timeouts == 2 and health.ejections == 0
    assert health.last_failure == 100.5
    health.timed_out(101.0)
    assert health.ejected(101.0) and health.ejections == 1
    assert health.ejected(101.9) and not health.ejected(102.0)  # the first backoff: 1 s
    assert health.timeouts == 0  # the ejection used them up


def test_an_answer_between_timeouts_resets_the_count() -> None:
    health = Health()
    for round_ in range(5):
        now = 100.0 + round_
        health.timed_out(now)
        health.timed_out(now + 0.1)
        health.succeeded()  # a reply, a declared exception, a server error, overloaded
        assert health.timeouts == 0
    assert not health.ejected(106.0) and health.ejections == 0


def test_what_tells_nothing_neither_counts_nor_resets() -> None:
    health = Health()
    health.timed_out(100.0)
    health.timed_out(100.1)
    health.settled()  # e.g. waiting for a pooled connection until the deadline
    health.record(Verdict.UNKNOWN, 100.2)
    assert health.timeouts == 2 and not health.ejected(100.2)
    health.record(Verdict.TIMED_OUT, 100.3)
    assert health.ejected(100.3)


def test_a_failure_ejects_even_after_timeouts_and_clears_them() -> None:
    health = Health()
    health.timed_out(100.0)
    health.timed_out(100.1)
    health.record(Verdict.FAILED, 100.2)  # connection refused or lost
    assert health.ejected(100.2) and health.ejections == 1 and health.timeouts == 0


def test_a_timed_out_trial_ejects_again_at_once_for_twice_as_long() -> None:
    health = Health()
    for n in range(TIMEOUTS_TO_EJECT):
        health.timed_out(100.0 + n / 10)
    assert health.ejected(100.2) and health.ejections == 1
    # The backoff ran out: the next call through is the trial, and it times out.
    assert health.available(101.3)
    health.picked()
    assert health.ejected(101.3)  # no second call while the trial is out
    health.timed_out(101.5)
    assert health.ejections == 2
    assert health.ejected(103.4) and not health.ejected(103.5)  # 2 s: doubled
    # And again: 4 s.
    health.picked()
    health.record(Verdict.TIMED_OUT, 103.6)
    assert health.ejections == 3
    assert health.ejected(107.5) and not health.ejected(107.6)


def test_a_trial_that_answers_readmits_and_resets_the_backoff() -> None:
    health = Health()
    health.failed(100.0)
    health.picked()
    health.record(Verdict.ANSWERED, 101.2)
    assert not health.ejected(101.2)
    # In service again: timeouts count from 0, and the next ejection is 1 s again.
    health.timed_out(102.0)
    health.timed_out(102.1)
    assert not health.ejected(102.1)
    health.timed_out(102.2)
    assert health.ejections == 2
    assert health.ejected(103.1) and not health.ejected(103.2)


def test_calls_ending_while_it_is_out_do_not_lengthen_the_backoff() -> None:
    health = Health()
    for n in range(TIMEOUTS_TO_EJECT):
        health.timed_out(100.0 + n / 10)
    # Calls that were in flight when it was ejected end while it is out.
    health.timed_out(100.5)
    health.failed(100.6)
    health.timed_out(100.7)
    assert health.ejections == 1
    assert not health.ejected(101.2)  # still out only until 100.2 + 1 s
    assert health.last_failure == 100.7


def test_a_trial_that_ends_without_telling_lets_another_through() -> None:
    health = Health()
    health.failed(100.0)
    health.picked()
    assert health.ejected(101.5)
    health.record(Verdict.UNKNOWN, 101.5)
    assert health.available(101.5) and health.ejections == 1


def test_the_count_to_eject_can_be_set() -> None:
    health = Health(timeouts_to_eject=1)
    health.timed_out(100.0)
    assert health.ejected(100.0)
    with pytest.raises(ValueError, match="at least 1"):
        Health(timeouts_to_eject=0)
