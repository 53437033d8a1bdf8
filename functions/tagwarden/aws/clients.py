"""boto3 clients, created once per (service, region) and reused for the life of the container.

Throttling (ThrottlingException, RequestLimitExceeded, TooManyRequestsException, ...) is retried by
botocore's standard retry mode: exponential backoff with full jitter, bounded attempts. Endpoints
follow the standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables, which is how tests
and the demo point everything at moto's server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import InvalidRegionError

from tagwarden.normalize.errors import MalformedEvent

DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 6},
    connect_timeout=3,
    read_timeout=10,
    user_agent_extra="tagwarden",  # lets anyone reading CloudTrail see our own calls
)


class Clients:
    def __init__(self, session: boto3.session.Session | None = None, config: Config = DEFAULT_CONFIG) -> None:
        self._session = session or boto3.session.Session()
        self._config = config
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._hooks: list[tuple[str, Callable[..., Any]]] = []
        self._lock = threading.Lock()  # boto3 client creation is not thread-safe; use is

    def get(self, service: str, region: str | None = None) -> Any:
        key = (service, region or None)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    try:
                        client = self._session.client(
                            service, region_name=region or None, config=self._config
                        )
                    except InvalidRegionError as exc:
                        # The region comes from the event (awsRegion): an event that names no real
                        # region is unreadable input, logged and dead-lettered like any other.
                        msg = f"region {str(region)[:40]!r} is not an AWS region name"
                        raise MalformedEvent(msg) from exc
                    for event, handler in self._hooks:
                        client.meta.events.register(event, handler)
                    self._clients[key] = client
        return client

    def observe(self, event: str, handler: Callable[..., Any]) -> None:
        """A botocore event handler on every client, made or to be made (e.g. `after-call`)."""
        with self._lock:
            self._hooks.append((event, handler))
            for client in self._clients.values():
                client.meta.events.register(event, handler)

    @property
    def config(self) -> Config:
        return self._config

    @property
    def region(self) -> str | None:
        region: str | None = self._session.region_name
        return region


# --- Organization scale: clients in the event's account ---------------------------------------

SESSION_SECONDS = 3600  # botocore refreshes 15 minutes before expiry, so sessions must be longer


def member_role_arn(account: str, role_name: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def assumed_session(
    sts: Any, role_arn: str, external_id: str | None, region: str | None, seconds: int = SESSION_SECONDS
) -> boto3.session.Session:
    """A session whose credentials come from sts:AssumeRole on first use and are fetched again
    before they expire (botocore's refreshable credentials), for the life of the container."""
    from botocore.credentials import DeferredRefreshableCredentials
    from botocore.session import get_session

    def fetch() -> dict[str, str]:
        kwargs: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": "tagwarden",
            "DurationSeconds": seconds,
        }
        if external_id:
            kwargs["ExternalId"] = external_id
        creds = sts.assume_role(**kwargs)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    core = get_session()
    core._credentials = DeferredRefreshableCredentials(refresh_using=fetch, method="sts-assume-role")
    return boto3.session.Session(botocore_session=core, region_name=region)


class AccountClients:
    """Clients per account: the local account's own, a member's through its member role. One
    `Clients` per account, each caching a client per (service, region): a client per (account,
    region, service) per container."""

    def __init__(
        self,
        local: Clients,
        local_account: str | None,
        role_name: str,
        external_id: str | None = None,
        seconds: int = SESSION_SECONDS,
    ) -> None:
        self.local = local
        self.role_name = role_name
        self.external_id = external_id
        self.seconds = seconds
        self._local_account = local_account
        self._members: dict[str, Clients] = {}
        self._lock = threading.Lock()

    @property
    def local_account(self) -> str:
        if self._local_account is None:  # one sts call per container, only in organization mode
            self._local_account = str(self.local.get("sts").get_caller_identity()["Account"])
        return self._local_account

    def get(self, account: str) -> Clients:
        if account == self.local_account:
            return self.local
        clients = self._members.get(account)
        if clients is None:
            with self._lock:
                clients = self._members.get(account)
                if clients is None:
                    role = member_role_arn(account, self.role_name)
                    sts = self.local.get("sts", self.local.region)
                    session = assumed_session(sts, role, self.external_id, self.local.region, self.seconds)
                    clients = Clients(session, self.local.config)
                    self._members[account] = clients
        return clients
