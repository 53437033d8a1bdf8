"""Azure's words in a notification and the command that fixes a resource's tags (a CloudText).

Pure: no Azure SDK; the CLI and the sweeper use it too.
"""

from __future__ import annotations

from collections.abc import Iterable

from tagwarden.lifecycle.ports import VALUE_PLACEHOLDER


class AzureText:
    account_label = "Subscription"
    region_label = "Location"

    def fix_command(
        self, resource_id: str, resource_type: str, keys: Iterable[str], region: str | None = None
    ) -> str:
        """`az tag update` with `--operation Merge` (adds tags, never removes one), or "" when no
        key is missing."""
        wanted = list(dict.fromkeys(k for k in keys if k))
        if not wanted:
            return ""
        import shlex  # here: only a notification needs it, not a cold start
        tags = [f"{k}={VALUE_PLACEHOLDER}" for k in wanted]
        return shlex.join(
            ["az", "tag", "update", "--resource-id", resource_id, "--operation", "Merge", "--tags", *tags]
        )


AZURE_TEXT = AzureText()
