"""What the developer commands share: bad input gets one actionable line on stderr and a non-zero exit.

    parser = cli.Parser(prog="make serve", description="...")
    parser.add_argument("--port", type=cli.port, default=3000)
    sys.exit(cli.run(main, "make serve"))

:class:`Parser` reports a bad argument on one line (no usage block), and
:func:`run` turns a :class:`CommandError` raised anywhere below ``main`` into
one line and exit status 2, and Ctrl-C into a quiet exit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

USAGE_ERROR = 2


class CommandError(Exception):
    """A mistake the user can fix; the message says what to do, on one line."""


class Parser(argparse.ArgumentParser):
    """argparse, with errors on one line: ``<prog>: argument --port: must be a port number...``."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: {message}\n")
        sys.exit(USAGE_ERROR)


def port(text: str) -> int:
    """An argparse type: a TCP port number, 1 to 65535."""
    value = whole_number(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, got {text!r}")
    return value


def whole_number(text: str, minimum: int = 0) -> int:
    """An argparse type: an integer at least ``minimum`` (0 by default)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text!r}")
    return value


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    return whole_number(text, minimum=1)


def run(main: Callable[[], int], name: str) -> int:
    """``main()``'s exit status; a CommandError is printed as ``<name>: <message>`` and gives 2."""
    try:
        return main()
    except CommandError as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
