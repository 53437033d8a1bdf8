from __future__ import annotations

import pytest

from tagwarden.azure.normalize.resource_id import parse_resource_id

SUB = "/subscriptions/0000"


@pytest.mark.parametrize(
    ("rid", "rg", "rtype", "name", "full_name"),
    [
        (
            f"{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
            "rg1",
            "Microsoft.Compute/virtualMachines",
            "vm1",
            "vm1",
        ),
        (
            f"{SUB}/resourcegroups/rg1/providers/Microsoft.Sql/servers/s1/databases/db1",
            "rg1",
            "Microsoft.Sql/servers/databases",
            "db1",
            "s1/db1",
        ),
        (f"{SUB}/resourceGroups/rg1", "rg1", "Microsoft.Resources/resourceGroups", "rg1", "rg1"),
        (SUB, None, "Microsoft.Resources/subscriptions", "0000", "0000"),
        (
            f"{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1/providers/"
            "Microsoft.Authorization/roleAssignments/ra1",
            "rg1",
            "Microsoft.Authorization/roleAssignments",
            "ra1",
            "ra1",
        ),
        (
            f"{SUB}/providers/Microsoft.Security/pricings/VirtualMachines",
            None,
            "Microsoft.Security/pricings",
            "VirtualMachines",
            "VirtualMachines",
        ),
    ],
)
def test_parse(rid: str, rg: str | None, rtype: str, name: str, full_name: str) -> None:
    parsed = parse_resource_id(rid)
    assert (parsed.subscription, parsed.resource_group, parsed.type, parsed.name, parsed.full_name) == (
        "0000",
        rg,
        rtype,
        name,
        full_name,
    )


def test_parent_of_nested() -> None:
    parsed = parse_resource_id(f"{SUB}/resourceGroups/rg1/providers/Microsoft.Sql/servers/s1/databases/db1")
    assert parsed.parent == f"{SUB}/resourceGroups/rg1/providers/Microsoft.Sql/servers/s1"


@pytest.mark.parametrize(
    "rid",
    [
        "",
        "/foo/bar",
        f"{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines",
        f"{SUB}/resourceGroups/rg1/things/x",
    ],
)
def test_rejects(rid: str) -> None:
    with pytest.raises(ValueError, match="ARM"):
        parse_resource_id(rid)
