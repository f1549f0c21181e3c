"""Exit statuses, and the one place that turns what a command raised into a status and a message.

A command returns EXIT_OK, or EXIT_PROBLEMS when its answer is no (a stale golden folder, a
rehearsal that failed), or raises: an OvsgenError for anything a person can fix, an OSError for
the environment (an unwritable folder, an unreadable file). `run_command` maps those here, always
through the reporter, so that every command says them the same way.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

from generator.cli.reporting import report_diagnostics, say
from generator.cli.settings import CommonSettings
from generator.errors import InputInvalid, OvsgenError

EXIT_OK = 0
EXIT_PROBLEMS = 1  # invalid input, a refusal, or a command's "no"
EXIT_USAGE = 2  # click's own status for a command line it or a command refuses (click.UsageError)
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # 141: the reader went away, as a shell tool killed by SIGPIPE


def signal_status(signum: int) -> int:
    """The status of a command ended by signal `signum`, as a shell reports one: 128 + its number."""
    return 128 + signum


AnySettings = TypeVar("AnySettings", bound=CommonSettings)


def run_command(command: Callable[[AnySettings], int], settings: AnySettings) -> int:
    """Run `command` with its settings; its exit status, with what it raised reported."""
    try:
        return command(settings)
    except (OvsgenError, OSError) as error:
        return exit_status(error, settings)


def exit_with(command: Callable[[AnySettings], int], settings: AnySettings) -> NoReturn:
    """Run `command` and end the process with its exit status (what click's commands do)."""
    sys.exit(run_command(command, settings))


def exit_status(error: OvsgenError | OSError, settings: CommonSettings) -> int:
    """Report what a command raised on its stderr and give the exit status it ends with.

    - a reader that went away (`ovsgen check ... | head`): as a shell tool does, end quietly with
      the status of SIGPIPE;
    - invalid input: its located problems, through the reporter --format names;
    - any other OvsgenError: its message, which is the whole story;
    - any other OSError (unwritable output, unreadable golden): the user's environment, not a
      bug: what the system said, and the file it said it about.
    """
    if isinstance(error, BrokenPipeError):
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    if isinstance(error, InputInvalid):
        report_diagnostics(settings, error.diagnostics)
    elif isinstance(error, OvsgenError):
        say(settings.stderr, str(error))
    else:
        say(settings.stderr, os_error_text(error))
    return EXIT_PROBLEMS


def os_error_text(error: OSError) -> str:
    """What the system said and about which file: `Permission denied: out/x`. An OSError made
    with a message of ovsgen's own (`OSError(errno.EINVAL, text)`) says just that text."""
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _discard_stdout() -> None:
    """stdout to /dev/null, so that its last flush, when the process ends, cannot fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
