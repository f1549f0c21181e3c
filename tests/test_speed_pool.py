"""The fork pool on its own (generator.speed.pool): results in order, errors in the parent,
and a worker that dies is an error, not a hang. It knows nothing of designs: plain numbers here."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, Sequence

import pytest

from generator.errors import WorkerFailed
from generator.speed import pool

PARENT = os.getpid()


def squares(items: Sequence[int]) -> Iterator[int]:
    return (item * item for item in items)


def done() -> list[int]:
    return [-1]


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_come_in_the_items_order_then_the_last_ones(jobs: int) -> None:
    items = list(range(2 * pool.ITEMS_PER_WORKER + 7))
    results = list(pool.fork_map(items, squares, done, jobs=jobs, role="test"))
    assert results == [*(item * item for item in items), -1]


def test_few_items_run_here_one_result_at_a_time() -> None:
    """Below ITEMS_PER_WORKER per worker no process is started, and the results come lazily."""
    seen: list[int] = []

    def noted(items: Sequence[int]) -> Iterator[int]:
        for item in items:
            seen.append(item)
            yield item

    results = pool.fork_map([1, 2, 3], noted, done, jobs=8, role="test")
    assert next(results) == 1
    assert seen == [1]
    assert list(results) == [2, 3, -1]


def test_data_reaches_the_workers_by_inheritance_not_by_pickling() -> None:
    """What the work reads is made before the fork: a lambda over a local (which pickle refuses)."""
    offset = 1000
    items = list(range(3 * pool.ITEMS_PER_WORKER))

    def shifted(span: Sequence[int]) -> Iterator[int]:
        return (item + offset for item in span)

    results = list(pool.fork_map(items, shifted, lambda: [os.getpid() != PARENT], jobs=3, role="test"))
    assert results == [*(item + offset for item in items), True]


def test_a_workers_error_is_raised_in_the_parent() -> None:
    def failing(span: Sequence[int]) -> Iterator[int]:
        if 250 in span:
            raise ValueError("item 250 is wrong")
        return iter(span)

    with pytest.raises(ValueError, match="item 250 is wrong"):
        list(pool.fork_map(list(range(300)), failing, done, jobs=2, role="test"))


def test_a_worker_killed_is_an_error_naming_its_role() -> None:
    def killed(span: Sequence[int]) -> Iterator[int]:
        if 150 in span:
            os.kill(os.getpid(), signal.SIGKILL)
        return iter(span)

    with pytest.raises(WorkerFailed, match=r"^a test worker \(process \d+\) ended before it sent its results$"):
        list(pool.fork_map(list(range(300)), killed, done, jobs=2, role="test"))
