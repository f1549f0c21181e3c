"""Stage 5: every output file of a design, rendered in memory (SPEC section 4).

Output kinds, each with the paths it owns (what `render --only KIND` replaces):
  ifcfg    <node>/network-scripts/
  ovs      <node>/ovs/
  libvirt  <node>/libvirt/
  sheet    <node>/build-sheet.md, build-sheet.html, wiring.svg; build-sheet.csv, index.md
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import pickle
import signal
import struct
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, BinaryIO, NoReturn, TypeVar

from generator.design.model import Design
from generator.design.resolve import NodeLayout
from generator.design.validate import ValidDesign
from generator.render import ifcfg, libvirt, ovs_script, sheets
from generator.render.files import OutputFile

__all__ = ["KINDS", "OutputFile", "map_design", "owned_paths", "render_design", "selected_layouts"]

T = TypeVar("T")

# Renderers get the folder their files go to, relative to the output folder ("design/node", "design").
NodeRenderer = Callable[[Design, NodeLayout, str], list[OutputFile]]
DesignRenderer = Callable[[Design, tuple[NodeLayout, ...], str], list[OutputFile]]


@dataclass(frozen=True)
class Kind:
    """An output kind: how to render it per node (and per design), and the paths it owns."""

    name: str
    render_node: NodeRenderer
    node_paths: tuple[str, ...]  # relative to the node folder
    render_design: DesignRenderer | None = None
    design_paths: tuple[str, ...] = ()  # relative to the design folder


_KINDS = (
    Kind("ifcfg", ifcfg.render_ifcfg, (ifcfg.FOLDER,)),
    Kind("ovs", ovs_script.render_apply_script, (ovs_script.FOLDER,)),
    Kind("libvirt", libvirt.render_libvirt, (libvirt.FOLDER,)),
    Kind("sheet", sheets.render_node_sheets, sheets.NODE_FILES, sheets.render_design_sheets, sheets.DESIGN_FILES),
)
KINDS = tuple(kind.name for kind in _KINDS)


def _selected(kinds: Collection[str]) -> tuple[Kind, ...]:
    return tuple(kind for kind in _KINDS if not kinds or kind.name in kinds)


def render_design(
    valid: ValidDesign, nodes: Collection[str] = (), kinds: Collection[str] = (), jobs: int = 1
) -> list[OutputFile]:
    """The design's files (only `nodes` and `kinds` when given), sorted by path.

    Paths are relative to the output folder and start with the design name.
    Design-level files (CSV, index) always cover every node.
    """
    files = (file for files in map_design(valid, _as_rendered, nodes, kinds, jobs) for file in files)
    return sorted(files, key=lambda file: file.path)


def _as_rendered(files: list[OutputFile]) -> list[OutputFile]:
    return files


def map_design(
    valid: ValidDesign,
    consume: Callable[[list[OutputFile]], T],
    nodes: Collection[str] = (),
    kinds: Collection[str] = (),
    jobs: int = 1,
) -> Iterator[T]:
    """`consume` of each node's files, in node order, then of the design-level files (if any).

    With `jobs` > 1, large designs render and consume their nodes in that many
    forked processes (consume must then only touch the file system and return
    something small); the results arrive in the same order as with one job.
    """
    selected = _selected(kinds)
    layouts = selected_layouts(valid, nodes)
    workers = min(jobs, len(layouts) // NODES_PER_JOB)
    if workers >= 2:
        yield from _in_workers(workers, (valid, layouts, selected, consume))
        return
    for layout in layouts:
        yield consume(_render_node(valid, layout, selected))
    design_files = _render_design_files(valid, selected)
    if design_files:
        yield consume(design_files)


def selected_layouts(valid: ValidDesign, nodes: Collection[str] = ()) -> list[NodeLayout]:
    """The layouts of the nodes `map_design` renders: those named in `nodes`, or every one."""
    return [layout for layout in valid.layouts if not nodes or layout.node.name in nodes]


def _render_design_files(valid: ValidDesign, kinds: tuple[Kind, ...]) -> list[OutputFile]:
    """The files about the whole design (CSV, index); they always cover every node."""
    return [
        file
        for kind in kinds
        if kind.render_design is not None
        for file in kind.render_design(valid.design, valid.layouts, valid.design.name)
    ]


# Below this many nodes per worker, starting processes costs more than it saves (benchmarks/).
NODES_PER_JOB = 100
BATCH = 20  # nodes per task for the workers

_SHARED: tuple[ValidDesign, list[NodeLayout], tuple[Kind, ...], Callable[[list[OutputFile]], Any]] | None = None


def _in_workers(
    workers: int, shared: tuple[ValidDesign, list[NodeLayout], tuple[Kind, ...], Callable[[list[OutputFile]], T]]
) -> Iterator[T]:
    """The results of `workers` forked processes, each rendering every `workers`-th span of nodes,
    read in node order; one more process renders the design-level files beside them.

    Each worker has a pipe of its own to the parent and shares no lock with it or the others
    (multiprocessing.Pool shares its task queue's: a worker killed while holding it, by a
    service manager's SIGTERM to the whole group say, left the parent waiting forever).
    A worker that ends without its results is an error; leaving early kills the rest."""
    global _SHARED  # noqa: PLW0603  # handed to forked workers by inheritance, not by pickling
    _SHARED = shared
    count = len(shared[1])
    spans = [(start, min(start + BATCH, count)) for start in range(0, count, BATCH)]
    # Objects made so far are shared with the workers: kept out of collections there, so
    # that the collector neither walks them nor makes each worker copy their pages.
    gc.freeze()
    started: list[_Worker] = []
    try:
        for index in range(workers):
            started.append(_Worker.start(functools.partial(_consume_spans, spans[index::workers]), started))
        # The design-level files read every node: one more process, run beside the nodes'.
        design = _Worker.start(_consume_design, started)
        started.append(design)
        for index in range(len(spans)):
            yield from started[index % workers].receive()
        yield from design.receive()
    finally:
        for worker in started:
            worker.stop()
        _SHARED = None
        gc.unfreeze()


_LENGTH = struct.Struct("!Q")  # each message on a worker's pipe: its length, then the pickled message


@dataclass
class _Worker:
    """A forked process that sends the parent pickled messages, one per span, on a pipe of its own."""

    pid: int
    pipe: BinaryIO

    @classmethod
    def start(cls, work: Callable[[Callable[[object], None]], None], others: list[_Worker]) -> _Worker:
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
        return cls(pid, os.fdopen(reading, "rb"))

    def receive(self) -> list[Any]:
        """The next result; the worker's error raised here; an error when it ended without one."""
        message = self._message()
        if message is None:  # it died before or while sending
            raise RuntimeError(f"a render worker (process {self.pid}) ended before it sent its results")
        failed, result = pickle.loads(message)
        if failed:
            raise result
        return result  # type: ignore[no-any-return]

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
            os.kill(self.pid, signal.SIGKILL)  # nothing to clean up in a worker: the parent owns the staging
        os.waitpid(self.pid, 0)


_STOPPING = {signal.SIGINT, signal.SIGTERM}


def _work_and_exit(
    work: Callable[[Callable[[object], None]], None], writing: int, parents: list[int], mask: Iterable[int]
) -> NoReturn:
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


def _consume_spans(spans: list[tuple[int, int]], send: Callable[[object], None]) -> None:
    """In a worker: send the consumed results of each span, in order."""
    for span in spans:
        send(_consume_span(span))


def _consume_span(span: tuple[int, int]) -> list[Any]:
    """In a worker: render and consume the nodes `start:end` of the shared design."""
    assert _SHARED is not None, "set by the parent before forking"
    valid, layouts, kinds, consume = _SHARED
    start, end = span
    return [consume(_render_node(valid, layout, kinds)) for layout in layouts[start:end]]


def _consume_design(send: Callable[[object], None]) -> None:
    """In a worker: send the consumed design-level files of the shared design (none if it has none)."""
    assert _SHARED is not None, "set by the parent before forking"
    valid, _, kinds, consume = _SHARED
    files = _render_design_files(valid, kinds)
    send([consume(files)] if files else [])


def _render_node(valid: ValidDesign, layout: NodeLayout, kinds: tuple[Kind, ...]) -> list[OutputFile]:
    """All files of one node."""
    folder = f"{valid.design.name}/{layout.node.name}"
    return [file for kind in kinds for file in kind.render_node(valid.design, layout, folder)]


def owned_paths(valid: ValidDesign, nodes: Collection[str] = (), kinds: Collection[str] = ()) -> list[PurePosixPath]:
    """What a render with these filters replaces as a whole: its files and folders, and nothing else."""
    root = PurePosixPath(valid.design.name)
    selected = _selected(kinds)
    if not nodes and len(selected) == len(_KINDS):
        return [root]  # the whole design folder: nodes no longer in the design disappear
    names = [layout.node.name for layout in valid.layouts if not nodes or layout.node.name in nodes]
    if len(selected) == len(_KINDS):
        paths = [root / name for name in names]
    else:
        paths = [root / name / sub for name in names for kind in selected for sub in kind.node_paths]
    return paths + [root / sub for kind in selected for sub in kind.design_paths]
