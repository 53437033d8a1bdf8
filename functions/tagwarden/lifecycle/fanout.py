"""Send one notification on every channel: a failing channel never stops the others.

`Fanout` is itself a `Notifier`. It tries every channel in order, collects the failures, and only
then raises one `FanoutError` naming each failed channel (so a Teams webhook answering 500 does not
cost the SNS copy, and the caller still learns the delivery was incomplete and can retry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from msgspec import Struct

from tagwarden.lifecycle.ports import Notification, Notifier


class ChannelFailure(Struct, frozen=True):
    channel: str
    error: Exception


class FanoutError(RuntimeError):
    """One or more channels failed; the others delivered."""

    def __init__(self, failures: Sequence[ChannelFailure], delivered: Sequence[str]) -> None:
        listed = "; ".join(f"{f.channel}: {type(f.error).__name__}: {f.error}" for f in failures)
        ok = ", ".join(delivered) or "none"
        super().__init__(f"{len(failures)} notification channel(s) failed ({listed}); delivered: {ok}")
        self.failures = tuple(failures)
        self.delivered = tuple(delivered)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(f.channel for f in self.failures)


class Fanout:
    """Notifier over several channels, named by the mapping's keys (or by class name and position)."""

    def __init__(self, notifiers: Mapping[str, Notifier] | Sequence[Notifier]) -> None:
        if isinstance(notifiers, Mapping):
            self.channels: tuple[tuple[str, Notifier], ...] = tuple(notifiers.items())
        else:
            self.channels = tuple((f"{type(x).__name__}[{i}]", x) for i, x in enumerate(notifiers))

    def send(self, message: Notification) -> None:
        failures: list[ChannelFailure] = []
        delivered: list[str] = []
        for name, notifier in self.channels:
            try:
                notifier.send(message)
            except Exception as exc:  # any channel's failure is collected, never fatal to the others
                failures.append(ChannelFailure(name, exc))
            else:
                delivered.append(name)
        if failures:
            raise FanoutError(failures, delivered) from failures[0].error
