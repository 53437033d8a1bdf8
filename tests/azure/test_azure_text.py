"""Azure's words and fix commands for notifications (the CloudText the Azure adapter hands the lifecycle)."""

from __future__ import annotations

from tagwarden.azure.text import AZURE_TEXT

SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/vm-build-01"


def test_words() -> None:
    assert (AZURE_TEXT.account_label, AZURE_TEXT.region_label) == ("Subscription", "Location")


def test_fix_azure_vm() -> None:
    assert AZURE_TEXT.fix_command(VM, "Microsoft.Compute/virtualMachines", ["Owner", "CostCenter"]) == (
        f"az tag update --resource-id {VM} --operation Merge --tags 'Owner=<value>' 'CostCenter=<value>'"
    )


def test_fix_quotes_odd_keys_and_ids() -> None:
    rid = f"/subscriptions/{SUB}/resourceGroups/rg (legacy)/providers/Microsoft.Web/sites/app"
    cmd = AZURE_TEXT.fix_command(rid, "Microsoft.Web/sites", ["cost center", "Owner", "Owner", ""])
    assert (
        cmd
        == f"az tag update --resource-id '{rid}' --operation Merge --tags 'cost center=<value>' 'Owner=<value>'"
    )


def test_fix_nothing_missing_is_empty() -> None:
    assert AZURE_TEXT.fix_command(VM, "Microsoft.Compute/virtualMachines", ()) == ""
