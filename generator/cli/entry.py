"""The process entry point of the `ovsgen` command and of `python -m generator`.

A one-shot command line can skip two costs of the interpreter that together
are about a fifth of a one-node render (benchmarks/README.md):
- cyclic garbage collection while the modules are imported: the ~100,000
  objects they make live until the process ends, so collecting among them
  finds nothing. They are frozen afterwards, so later collections skip them too;
- the interpreter's teardown, which frees every module one by one. Once the
  command has returned, every file it wrote is closed (writes use `with`), so
  only the standard streams need flushing before the process ends.

Tests and other callers use `generator.cli.main.main`, which exits the usual way.
"""

from __future__ import annotations

import functools
import gc
import os
import signal
import sys
from typing import NoReturn


def run() -> NoReturn:
    gc.disable()
    from generator.cli.exits import EXIT_OK, EXIT_PROBLEMS, signal_status

    # A CI job's timeout or a `kill` sends SIGTERM: end as after Ctrl-C, through every `finally`,
    # so that a render removes its staging folder and a rehearsal stops its private ovsdb-server.
    signal.signal(signal.SIGTERM, functools.partial(_terminated, os.getpid(), signal_status(signal.SIGTERM)))
    from generator.cli.main import main

    gc.freeze()
    gc.enable()
    try:
        main()
        status: object = EXIT_OK
    except SystemExit as exit_:
        status = exit_.code
    except BrokenPipeError:
        status = EXIT_PROBLEMS  # the reader went away (`ovsgen schema | head -1`): nothing more to tell it
    os._exit(_flushed(_exit_code(status)))


def _terminated(command: int, status: int, _signum: int, _frame: object) -> NoReturn:
    """End the command (process `command`) as Ctrl-C would, with exit status `status` (128 + the
    signal's number: generator.cli.exits.signal_status).

    A worker forked by a render inherits this handler; it has nothing of its own to clean up
    (the command removes the staging folder the workers write into), and unwinding would only
    print tracebacks about the pipes the command has closed: a worker ends at once, silently.
    """
    if os.getpid() != command:
        os._exit(status)
    raise SystemExit(status)


def _exit_code(status: object) -> int:
    """What the interpreter makes of `sys.exit(status)`: None is 0, a message is printed and is 1."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1


def _flushed(code: int) -> int:
    """Flush stdout and stderr; output that could not be delivered (a closed pipe) makes the exit code 1."""
    try:
        sys.stdout.flush()
    except OSError:
        code = code or 1
    try:
        sys.stderr.flush()
    except OSError:
        code = code or 1
    return code
