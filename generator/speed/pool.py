"""A pool of forked processes that works through a long sequence of items, results in order.

`fork_map` knows nothing of what it runs: a function of a span of items, and one more of
nothing that runs beside them. The data those functions read reaches the workers by
inheritance: they are made (as closures or functools.partial) before the fork, so nothing
is pickled on the way in, and only their results are pickled on the way back.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import pickle
import signal
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn, TypeVar

from generator.errors import WorkerFailed

Item = TypeVar("Item")
Result = TypeVar("Result")

# Below this many items per worker, starting processes costs more than it saves (benchmarks/).
ITEMS_PER_WORKER = 100
ITEMS_PER_TASK = 20  # items a worker sends back at a time

# What a worker runs: `work(send)`, where `send` hands the parent one message.
Work = Callable[[Callable[[object], None]], None]


def fork_map(
    items: Sequence[Item],
    work: Callable[[Sequence[Item]], Iterable[Result]],
    last: Callable[[], Iterable[Result]],
    *,
    jobs: int,
    role: str,
) -> Iterator[Result]:
    """The results of `work` over every item, in the items' order, then those of `last`.

    With `jobs` > 1 and enough items (ITEMS_PER_WORKER each), `work` runs in that many forked
    processes, on spans of ITEMS_PER_TASK items, and `last` in one more process beside them;
    else all of it runs here, one result at a time. `role` names the workers in the error
    raised when one ends without its results ("a render worker ...").
    """
    workers = min(jobs, len(items) // ITEMS_PER_WORKER)
    if workers < 2:
        yield from work(items)
        yield from last()
        return
    spans = [(start, min(start + ITEMS_PER_TASK, len(items))) for start in range(0, len(items), ITEMS_PER_TASK)]
    tasks = [functools.partial(_send_spans, items, work, spans[index::workers]) for index in range(workers)]
    yield from _in_workers([*tasks, functools.partial(_send_all, last)], len(spans), role)


def _in_workers(tasks: list[Work], spans: int, role: str) -> Iterator[Any]:
    """The results of one forked process per task: the span tasks' in turn (span i from task
    i % their number), then those of the last task, which runs beside them.

    Each worker has a pipe of its own to the parent and shares no lock with it or the others
    (multiprocessing.Pool shares its task queue's: a worker killed while holding it, by a
    service manager's SIGTERM to the whole group say, left the parent waiting forever).
    A worker that ends without its results is an error; leaving early kills the rest."""
    *span_tasks, last = tasks
    # Objects made so far are shared with the workers: kept out of collections there, so
    # that the collector neither walks them nor makes each worker copy their pages.
    gc.freeze()
    started: list[_Worker] = []
    try:
        for task in span_tasks:
            started.append(_Worker.start(task, started, role))
        beside = _Worker.start(last, started, role)
        started.append(beside)
        for index in range(spans):
            yield from started[index % len(span_tasks)].receive()
        yield from beside.receive()
    finally:
        for worker in started:
            worker.stop()
        gc.unfreeze()


def _send_spans(
    items: Sequence[Item],
    work: Callable[[Sequence[Item]], Iterable[Result]],
    spans: list[tuple[int, int]],
    send: Callable[[object], None],
) -> None:
    """In a worker: send the results of each span of `items`, a list per span, in order."""
    for start, end in spans:
        send(list(work(items[start:end])))


def _send_all(last: Callable[[], Iterable[Result]], send: Callable[[object], None]) -> None:
    """In a worker: send the results of `last`, as one list."""
    send(list(last()))


_LENGTH = struct.Struct("!Q")  # each message on a worker's pipe: its length, then the pickled message
_STOPPING = {signal.SIGINT, signal.SIGTERM}


@dataclass
class _Worker:
    """A forked process that sends the parent pickled messages, one per span, on a pipe of its own."""

    pid: int
    pipe: BinaryIO
    role: str

    @classmethod
    def start(cls, work: Work, others: list[_Worker], role: str) -> _Worker:
        """Fork a process that runs `work(send)` and ends; `send` hands the parent one result."""
        reading, writing = os.pipe()
        # Ctrl-C or SIGTERM held back until the worker has its own handlers: one arriving during
        # the fork would otherwise reach the worker's Python code (a traceback, a lost worker).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            pid = os.fork()
            if pid == 0:  # the worker: _work_and_exit never returns into the parent's code
                _work_and_exit(work, writing, [reading, *(other.pipe.fileno() for other in others)], held)
        except OSError:  # no process to be had: nothing was started
            os.close(reading)
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            os.close(writing)
        return cls(pid, os.fdopen(reading, "rb"), role)

    def receive(self) -> list[Any]:
        """The next result; the worker's error raised here; an error when it ended without one."""
        message = self._message()
        if message is None:  # it died before or while sending
            raise WorkerFailed(f"a {self.role} worker (process {self.pid}) ended before it sent its results")
        failed, result = pickle.loads(message)
        if failed:
            raise result
        results: list[Any] = result
        return results

    def _message(self) -> bytes | None:
        """The next whole message on the pipe; None when the pipe ends first."""
        header = self.pipe.read(_LENGTH.size)
        if len(header) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack(header)
        message = self.pipe.read(length)
        return message if len(message) == length else None

    def stop(self) -> None:
        """End the worker if it still runs (an error elsewhere), and reap it."""
        self.pipe.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)  # nothing to clean up in a worker: the parent owns what it made
        os.waitpid(self.pid, 0)


def _work_and_exit(work: Work, writing: int, parents: list[int], mask: Iterable[int]) -> NoReturn:
    """In a worker: run `work`, sending each result (or the error that stopped it) on `writing`,
    then end at once. `parents` are the parent's ends of pipes, closed here: only the parent reads
    them, and a pipe whose reader is gone must break."""
    status = 0
    try:
        for descriptor in parents:
            os.close(descriptor)
        pipe = os.fdopen(writing, "wb")
        # Ctrl-C reaches every process of the terminal's group: the parent handles it and stops the
        # workers. SIGTERM ends a worker at once, as by default, not through the parent's handler.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        try:
            work(functools.partial(_send, pipe, False))
        except Exception as error:  # raised again in the parent
            _send(pipe, True, _picklable(error))
        pipe.flush()
    except BaseException:  # the parent went away (a closed pipe): nobody to tell
        status = 1
    finally:
        os._exit(status)  # no interpreter teardown, no atexit, no flushing of the parent's buffers


def _send(pipe: BinaryIO, failed: bool, result: object) -> None:
    message = pickle.dumps((failed, result), protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_LENGTH.pack(len(message)) + message)


def _picklable(error: Exception) -> Exception:
    """`error` if it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any failure to pickle or rebuild it
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error
