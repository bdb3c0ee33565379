"""Work that must follow a commit: queued during a unit of work, run once it commits.

A request or a task that writes something others must act on (ask for an anchoring
tick, deliver webhooks, log the due day summaries) queues that work on its session
with ``after_commit``; it never sends a job or calls the chain inside the open
transaction. The owner of the unit of work (the API's session dependency, or
``storage.db.transaction`` for the worker and the commands) commits, then takes the
committed work with ``committed_work`` and runs it: the API after the answer is sent,
the others at once. Work queued in a transaction that rolls back is dropped with it,
so nothing acts on writes that were never stored. (Work belongs to the outermost
transaction: a savepoint that commits or rolls back inside it neither runs nor drops it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

Job = Callable[[], object]
_KEY = "sunledger.after_commit"


@dataclass
class _Queue:
    pending: list[Job] = field(default_factory=list)
    committed: list[Job] = field(default_factory=list)


def after_commit(session: Session, job: Job) -> None:
    """Run ``job`` once the session's transaction commits; drop it if it rolls back."""
    _queue(session).pending.append(job)


def committed_work(session: Session) -> list[Job]:
    """Take the work whose transaction has committed (in the order it was queued); work
    still pending (its transaction neither committed nor rolled back yet) stays."""
    queue: _Queue | None = session.info.get(_KEY)
    if queue is None:
        return []
    jobs, queue.committed = queue.committed, []
    return jobs


def run_all(jobs: Iterable[Job]) -> None:
    """Run committed work in order (a job that must not stop the next catches its own)."""
    for job in jobs:
        job()


def _queue(session: Session) -> _Queue:
    queue: _Queue | None = session.info.get(_KEY)
    if queue is None:
        queue = session.info[_KEY] = _Queue()
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_soft_rollback", _rolled_back)
    return queue


def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the transaction around it may still roll back
    queue: _Queue = session.info[_KEY]
    queue.committed.extend(queue.pending)
    queue.pending.clear()


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the transaction itself, not a savepoint inside it
        session.info[_KEY].pending.clear()
