"""boto3 clients, created once per (service, region) and reused for the life of the container.

Throttling (ThrottlingException, RequestLimitExceeded, TooManyRequestsException, ...) is retried by
botocore's standard retry mode: exponential backoff with full jitter, bounded attempts. Endpoints
follow the standard AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> variables, which is how tests
and the demo point everything at moto's server.
"""

from __future__ import annotations

import threading
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
                    self._clients[key] = client
        return client

    @property
    def region(self) -> str | None:
        region: str | None = self._session.region_name
        return region
