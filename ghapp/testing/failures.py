"""What a SkillTestApp counts as a failure, and how it sees a deferred task fail.

A delivery's failures are read from the store; a task's are not stored anywhere (the bus
logs the error and carries on), so the processor each test app runs with marks the task
it is running and a log handler lays every error logged meanwhile at that task's door.
"""

from __future__ import annotations

import contextvars
import logging
import re
from dataclasses import dataclass

from ghapp.queue import Processor
from ghapp.store import StoredTask


@dataclass(frozen=True)
class Failure:
    """A delivery or deferred task that did not succeed, as the test app saw it."""

    kind: str  # "delivery" or "task"
    ident: str  # the delivery id or the task key
    skill: str | None
    detail: str

    def line(self) -> str:
        return f"{self.kind} {self.ident}: {self.skill or '(no skill)'}: {self.detail}"


@dataclass
class ExpectedFailure:
    skill: str | None
    match: str | None
    matched: int = 0

    def covers(self, failure: Failure) -> bool:
        if self.skill is not None and failure.skill != self.skill:
            return False
        return self.match is None or re.search(self.match, failure.detail) is not None


# The task a worker is running (and whose test app watches it), so that errors logged
# meanwhile are laid at its door.
_running_task: contextvars.ContextVar[tuple[TaskErrors, StoredTask] | None] = (
    contextvars.ContextVar("ghapp_testing_running_task", default=None)
)


class TaskErrors(logging.Handler):
    """Collects what ghapp logs at ERROR while running a task: the bus logs a task's failure
    (or its missing handler) and carries on, so the log is where the failure shows."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.failures: list[Failure] = []

    def emit(self, record: logging.LogRecord) -> None:
        watched, task = _running_task.get() or (None, None)
        if watched is not self or task is None:
            return
        detail = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            detail += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.failures.append(Failure("task", task.key, task.skill, detail))


class WatchedProcessor:
    """The runtime's processor, with each task run marked for `TaskErrors`."""

    def __init__(self, inner: Processor, errors: TaskErrors) -> None:
        self.inner = inner
        self.errors = errors

    async def process_delivery(self, delivery_id: str) -> float | None:
        return await self.inner.process_delivery(delivery_id)

    async def run_task(self, task: StoredTask) -> float | None:
        token = _running_task.set((self.errors, task))
        try:
            return await self.inner.run_task(task)
        except Exception as exc:
            self.errors.failures.append(
                Failure("task", task.key, task.skill, f"{type(exc).__name__}: {exc}")
            )
            raise
        finally:
            _running_task.reset(token)
