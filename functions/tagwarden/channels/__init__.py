"""Notification channels that belong to no cloud (a webhook), used by both adapters' fan-outs.

Adapters own their cloud's channels (SNS in tagwarden.aws.notify, the Storage queue in
tagwarden.azure.notify); every channel raises `DeliveryFailed` when a notification was not delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.lifecycle.fanout import Fanout
from tagwarden.lifecycle.ports import Notifier
from tagwarden.rules.model import RuleSet

TEAMS_URL_SETTING = "TAGWARDEN_TEAMS_WEBHOOK_URL"


class DeliveryFailed(RuntimeError):
    """A channel refused the notification, or kept failing until the retries ran out."""

    def __init__(self, channel: str, message: str, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(f"{channel}: {message}" + (f" (HTTP {status})" if status else ""))
        self.channel = channel
        self.status = status
        self.attempts = attempts


def neutral_channels(env: Mapping[str, str], rules: RuleSet) -> tuple[dict[str, Notifier], list[str]]:
    """The channels no cloud owns that are configured (Teams), and why any could not be built.
    The webhook code (stdlib HTTP) is imported only when a URL is set."""
    if not (env.get(TEAMS_URL_SETTING) or rules.notifications.teams_webhook_url):
        return {}, []
    from tagwarden.channels.webhook import teams_channel

    teams, failure = teams_channel(env, rules.notifications.teams_webhook_url)
    return ({"teams": teams} if teams else {}), ([failure] if failure else [])


def fan_out(channels: Mapping[str, Notifier], failures: list[str], telemetry: Any = None) -> Notifier | None:
    """One Fanout over every channel built (None: notifications are logged only); a channel that
    could not be built is logged, and tagging goes on."""
    if telemetry is not None:
        for failure in failures:
            telemetry.log("error", "notification channel not configured", error=failure)
    return Fanout(dict(channels)) if channels else None


__all__ = ["TEAMS_URL_SETTING", "DeliveryFailed", "fan_out", "neutral_channels"]
