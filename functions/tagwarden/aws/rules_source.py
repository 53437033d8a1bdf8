"""Rules read from S3, SSM Parameter Store or AppConfig through Powertools Parameters, re-read
while the function lives (tagwarden.rules.live keeps the last good version).

TAGWARDEN_RULES_SOURCE names the store:
- `s3://bucket/key`: s3:GetObject (Powertools has no S3 provider: rules_providers.S3Provider);
- `ssm:/name` or `ssm:name`: ssm:GetParameter, decrypted (a SecureString under the aws/ssm key);
- `appconfig:application/environment/profile` (IDs: IAM names the resource by them):
  appconfig:StartConfigurationSession once, then appconfig:GetLatestConfiguration.
TAGWARDEN_RULES_SSM_PARAMETER=name (the older setting) is `ssm:name`. TAGWARDEN_RULES_MAX_AGE is
how many seconds a version is used before the store is asked again (default 60: a new version is
live within a minute). The check runs on the clock of `LiveRules` (injectable), so each read goes to
the store (`force_fetch`); a read's value stays in the provider's cache for `max_age` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tagwarden.aws.clients import Clients
from tagwarden.rules.loaded import SOURCE_ENV

if TYPE_CHECKING:  # the live-rules machinery is imported when a store is configured
    from tagwarden.rules.live import Fetched, LiveRules, Sink
from tagwarden.rules.model import RuleSet

LEGACY_SSM_ENV = "TAGWARDEN_RULES_SSM_PARAMETER"
FORMS = "s3://bucket/key, ssm:/parameter-name or appconfig:application/environment/profile"


class ProviderFeed:
    """A `tagwarden.rules.live.Feed` over one Powertools provider and one name."""

    def __init__(
        self, name: str, provider: Any, key: str, max_age: int, options: Mapping[str, Any] | None = None
    ) -> None:
        self.name = name  # as configured: s3://bucket/key ...
        self.provider = provider
        self.key = key  # the provider's name for it
        self.max_age = max_age
        self.options = dict(options or {})

    def fetch(self) -> Fetched:
        from tagwarden.rules.live import Fetched

        value = self.provider.get(self.key, max_age=self.max_age, force_fetch=True, **self.options)
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        return Fetched(text, self.provider.versions.get(self.key, ""))


def source_setting(env: Mapping[str, str]) -> str | None:
    """The configured remote source, or None for the rules file packaged with the function."""
    source = (env.get(SOURCE_ENV) or "").strip()
    if source:
        return source
    legacy = (env.get(LEGACY_SSM_ENV) or "").strip()
    return f"ssm:{legacy}" if legacy else None


def feed(source: str, clients: Clients, seconds: int) -> ProviderFeed:
    """The feed for `source`; a ValueError names the accepted forms."""
    from tagwarden.aws import rules_providers as providers  # Powertools Parameters: only when used

    kind, sep, rest = source.partition(":")
    bucket, _, key = rest.removeprefix("//").partition("/")
    if kind == "s3" and rest.startswith("//") and bucket and key:
        return ProviderFeed(source, providers.S3Provider(clients.get("s3")), f"{bucket}/{key}", seconds)
    if kind == "ssm" and sep and rest:
        ssm = providers.VersionedSSMProvider(clients.get("ssm"))
        return ProviderFeed(source, ssm, rest, seconds, {"decrypt": True})
    parts = rest.split("/")
    if kind == "appconfig" and len(parts) == 3 and all(parts):
        provider = providers.VersionedAppConfigProvider(parts[0], parts[1], clients.get("appconfigdata"))
        return ProviderFeed(source, provider, parts[2], seconds)
    raise ValueError(f"{SOURCE_ENV}={source!r}: expected {FORMS}")


def live_rules(
    env: Mapping[str, str],
    clients: Clients,
    sink: Sink,
    clock: Callable[[], float] | None = None,
) -> LiveRules | None:
    """The live rules of TAGWARDEN_RULES_SOURCE, loaded now (a failure is raised: no rules, no
    enforcement), or None when the rules are the packaged file."""
    source = source_setting(env)
    if source is None:
        return None
    from tagwarden.rules.live import LiveRules, max_age_from_env

    seconds = max_age_from_env(env)

    from tagwarden.rules.loader import load_rules_text  # runtime text: the full loader (YAML, checks)

    def compile_rules(text: str, name: str) -> RuleSet:
        return load_rules_text(text, name, env)

    return LiveRules(feed(source, clients, seconds), compile_rules, sink, seconds, clock or time.monotonic)
