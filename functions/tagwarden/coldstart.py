"""The cyclic garbage collector, paused while a function starts.

A cold start allocates a few hundred thousand objects that live as long as the process (the SDKs'
service models and modules, our compiled rules) and next to no garbage. CPython's collector
still walks them, again and again as they pile up: 10 ms of CPU on an Azure cold start and 30 ms
on AWS (boto3's models), measured in bench/coldstart_bench.py. An entry module calls `begin()`
before its imports and `settled()` when each invocation ends (in a `finally`: a failed one too):
after the first, the collector runs again and the start's objects are frozen (moved where no
later collection scans them, so each event's collections stay small too); after the others it
does nothing. A sweeper settles as soon as it is built: a sweep may run for minutes. Only the
collector is paused: reference counting frees memory as usual; what the start made that is both
garbage and cyclic (~1,000 objects, measured) is frozen with the rest, once per process.

A host that imports the entry module lazily (the Azure function app) imports it with `entry()`:
an import that fails resumes the collector, since the next attempt may be minutes away. (Lambda
imports its handler at init; an init that fails ends the environment.)
"""

from __future__ import annotations

import gc
import importlib
from types import ModuleType

_PAUSED = False


def begin() -> None:
    """Pause the collector for the cold start (a no-op where someone else already paused it)."""
    global _PAUSED  # noqa: PLW0603 - one cold start per process
    if gc.isenabled() and not _PAUSED:
        gc.disable()
        _PAUSED = True


def settled() -> None:
    """The start is over: freeze what it built and resume the collector (idempotent)."""
    global _PAUSED  # noqa: PLW0603
    if _PAUSED:
        _PAUSED = False
        gc.freeze()
        gc.enable()


def entry(name: str) -> ModuleType:
    """The entry module `name`, imported on first use; its failed import leaves no pause behind."""
    try:
        return importlib.import_module(name)
    except BaseException:
        settled()
        raise
