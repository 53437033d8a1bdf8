"""The Powertools Parameters providers the live rules read through (tagwarden.aws.rules_source),
each remembering the version it read, for the logs. Imported only when a store is configured."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import AppConfigProvider, BaseProvider, SSMProvider


class S3Provider(BaseProvider):
    """An S3 object's text; remembers the version it read (VersionId, else the ETag)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client=client)  # type: ignore[no-untyped-call]
        self.client = client
        self.versions: dict[str, str] = {}

    def _get(self, name: str, **sdk_options: Any) -> str:
        bucket, key = name.split("/", 1)
        got = self.client.get_object(Bucket=bucket, Key=key, **sdk_options)
        self.versions[name] = str(got.get("VersionId") or got.get("ETag", "")).strip('"')
        return str(got["Body"].read().decode("utf-8"))

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        raise NotImplementedError("one rules object at a time")


class VersionedSSMProvider(SSMProvider):
    """Powertools' SSM provider, remembering the parameter's Version (for the logs)."""

    def __init__(self, client: Any) -> None:
        super().__init__(boto3_client=client)
        self.versions: dict[str, str] = {}

    def _get(self, name: str, decrypt: bool = False, **sdk_options: Any) -> str:
        parameter = self.client.get_parameter(Name=name, WithDecryption=decrypt, **sdk_options)["Parameter"]
        self.versions[name] = str(parameter.get("Version", ""))
        return str(parameter["Value"])


class VersionedAppConfigProvider(AppConfigProvider):
    """Powertools' AppConfig provider (its session token, its last value when nothing changed),
    remembering the deployed version's label."""

    def __init__(self, application: str, environment: str, client: Any) -> None:
        super().__init__(environment=environment, application=application, boto3_client=client)
        self.versions: dict[str, str] = {}

    def _get(self, name: str, **sdk_options: Any) -> bytes:
        if name not in self._next_token:
            started = self.client.start_configuration_session(
                ApplicationIdentifier=self.application,
                EnvironmentIdentifier=self.environment,
                ConfigurationProfileIdentifier=name,
                **sdk_options,
            )
            self._next_token[name] = started["InitialConfigurationToken"]
        try:
            got = self.client.get_latest_configuration(ConfigurationToken=self._next_token[name])
        except Exception:
            # A token expires after 24 hours unused (a quiet container): start a new session next time.
            del self._next_token[name]
            raise
        self._next_token[name] = got["NextPollConfigurationToken"]
        content: bytes = got["Configuration"].read()
        if content:  # empty: unchanged since the last poll
            self.last_returned_value[name] = content
            self.versions[name] = str(got.get("VersionLabel") or "")
        return bytes(self.last_returned_value[name])
