"""Notifications on Azure: a Storage Queue (the Teams webhook is cloud-neutral:
tagwarden.channels.webhook).

`QueueNotifier` puts the versioned JSON (`messages.to_json`) as a plain text message (no base64)
on a Storage queue, through azure-storage-queue, imported only when a QueueNotifier is built. The
message carries `recipients` (the creator's address): a consumer such as a Logic App can mail the
creator a copy. An Azure Functions queue trigger reading this queue needs host.json
`extensions.queues.messageEncoding = "none"` (its default expects base64).
"""

from __future__ import annotations

import json
from typing import Any

from tagwarden.channels import DeliveryFailed
from tagwarden.lifecycle.ports import Notification

__all__ = ["DeliveryFailed", "QueueNotifier"]


class QueueNotifier:
    """Puts the versioned JSON of each notification on a Storage queue (text, not base64).

    `connection_string_or_account_url`: a connection string (AccountName=...;AccountKey=... or
    UseDevelopmentStorage=true), or the queue service URL (https://<account>.queue.core.windows.net)
    with `credential` (DefaultAzureCredential, the app's managed identity, when None; it needs the
    "Storage Queue Data Message Sender" role).
    """

    def __init__(
        self,
        connection_string_or_account_url: str,
        queue_name: str,
        credential: Any = None,
        *,
        time_to_live: int | None = None,
    ) -> None:
        from azure.storage.queue import QueueClient

        target = connection_string_or_account_url.strip()
        if target.startswith(("https://", "http://")):
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            self._client = QueueClient(target, queue_name, credential=credential)
        else:
            self._client = QueueClient.from_connection_string(target, queue_name, credential=credential)
        self.queue_name = queue_name
        self.time_to_live = time_to_live

    @property
    def client(self) -> Any:
        return self._client

    def send(self, message: Notification) -> None:
        from azure.core.exceptions import AzureError

        from tagwarden.lifecycle import messages  # on the first notification, not at cold start

        text = json.dumps(messages.to_json(message))
        try:
            self._client.send_message(text, time_to_live=self.time_to_live)
        except AzureError as exc:
            raise DeliveryFailed("queue", f"{self.queue_name}: {exc}") from exc

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> QueueNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
