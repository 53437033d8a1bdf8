from __future__ import annotations

import pytest

from tagwarden.attribution import paths

DOC = {
    "a": {"items": [{"id": 1, "sub": {"items": [{"x": "p"}, {"x": "q"}]}}, {"id": 2}]},
    "n": None,
    "s": "v",
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s", ["v"]),
        ("a.items.id", [1, 2]),
        ("a.items[].id", [1, 2]),
        ("a.items[1].id", [2]),
        ("a.items[5].id", []),
        ("a.items.sub.items.x", ["p", "q"]),
        ("n", []),
        ("missing.deeper", []),
        ("s.deeper", []),
    ],
)
def test_values(path: str, expected: list[object]) -> None:
    assert paths.values(DOC, path) == expected


def test_first() -> None:
    assert paths.first(DOC, "a.items.id") == 1
    assert paths.first(DOC, "nothing") is None


@pytest.mark.parametrize("bad", ["", "a..b", "a[x]", "a.[0]"])
def test_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="malformed path"):
        paths.compile_path(bad)
