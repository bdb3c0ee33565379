"""Eager anchoring ticks run one at a time: callers that find one running return at once
and the running one goes once more (issue 15: a stalled chain holds one thread, not all)."""

from __future__ import annotations

import threading

from traceability.entrypoints.worker import OneAtATime


def test_calls_while_a_run_is_held_return_at_once_and_coalesce_into_one_more_run() -> None:
    flight = OneAtATime()
    entered, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def job() -> None:
        runs.append(threading.current_thread().name)
        if len(runs) == 1:
            entered.set()
            assert release.wait(30)

    results: dict[str, bool] = {}
    first = threading.Thread(target=lambda: results.update(first=flight.run(job)), name="first")
    first.start()
    assert entered.wait(30)
    # Ten callers while the chain "stalls" the first run: none of them waits, none runs it.
    for _ in range(10):
        assert flight.run(job) is False
    assert runs == ["first"]
    release.set()
    first.join(30)
    assert results == {"first": True}
    assert runs == ["first", "first"]  # the ten asks became one more run, by the first caller
    assert flight.run(job) is True and len(runs) == 3


def test_a_waiting_caller_runs_the_job_itself_once_the_lock_is_free() -> None:
    flight = OneAtATime()
    entered, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def job() -> None:
        runs.append(threading.current_thread().name)
        if len(runs) == 1:
            entered.set()
            assert release.wait(30)

    first = threading.Thread(target=lambda: flight.run(job), name="first")
    first.start()
    assert entered.wait(30)
    waiter = threading.Thread(target=lambda: flight.run(job, wait=True), name="forced")
    waiter.start()
    release.set()
    first.join(30)
    waiter.join(30)
    assert "forced" in runs and runs[0] == "first"
