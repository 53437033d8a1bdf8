"""The drawn report: PNG charts, a self-contained HTML page, and that page in headless Chromium."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tagwarden.cli.main import main
from tagwarden.showback.charts import CHARTS, COLORS, html_report

from focus_scenario import Scenario, scenario  # noqa: F401 - the fixture


def report_with_charts(scenario: Scenario, tmp_path: Path) -> dict[str, Any]:
    out = io.StringIO()
    code = main(
        [
            "showback",
            "--ledger",
            str(scenario.ledger),
            "--costs",
            str(scenario.costs),
            "--by",
            "Agent-ID,Outcome-ID",
            "--format",
            "json",
            "--html",
            str(tmp_path / "report.html"),
            "--png",
            str(tmp_path / "png"),
        ],
        out=out,
    )
    assert code == 0
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def _has_color(image: Image.Image, hex_color: str, at_least: int = 200) -> bool:
    want = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(image.convert("RGB")).astype(int)
    hits = int((np.abs(pixels - want) <= 8).all(axis=-1).sum())
    return hits >= at_least


def test_pngs_are_written_and_show_the_sources(scenario: Scenario, tmp_path: Path) -> None:
    report_with_charts(scenario, tmp_path)
    files = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert files == sorted(f"{name}.png" for name in CHARTS)
    spend = Image.open(tmp_path / "png" / "spend-by-tags.png")
    assert spend.width >= 800
    assert _has_color(spend, COLORS["ledger"]) and _has_color(spend, COLORS["bill-tags"])
    assert _has_color(Image.open(tmp_path / "png" / "over-time.png"), COLORS["unallocated"])


def test_the_html_is_self_contained(scenario: Scenario, tmp_path: Path) -> None:
    report_with_charts(scenario, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") == len(CHARTS)
    assert not re.search(r"<script|<link|<img|src=|url\((?!#)|@import", page)  # url(#clip) is in-page
    assert "Who spent the money" in page and "reconciled to the cent" in page


def test_the_html_escapes_what_the_bill_says(scenario: Scenario, tmp_path: Path) -> None:
    report = report_with_charts(scenario, tmp_path)
    report["top_unallocated"][0]["resource_id"] = "<script>alert(1)</script>"
    report["top_unallocated"][0]["creator"] = "<img src=x onerror=alert(1)>"
    page = html_report(report)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_headless_chromium_renders_the_charts(scenario: Scenario, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (make test installs Debian's package)")
    report_with_charts(scenario, tmp_path)
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,2400",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            (tmp_path / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file(), done.stderr.decode(errors="replace")[-2000:]
    image = Image.open(shot)
    assert image.size == (1100, 2400)
    # the charts are drawn, not blank boxes: each source's colour covers a visible area
    for source in ("bill-tags", "ledger", "unallocated"):
        assert _has_color(image, COLORS[source], at_least=500), source
