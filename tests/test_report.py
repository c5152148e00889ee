"""The HTML report: one self-contained file whose every figure renders in a real browser."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from crossent.report import html_report
from crossent.selection import Comparison, compare, embedded

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report() -> str:
    data = embedded("breast-cancer")
    result: Comparison = compare(data.X, data.y, losses=["ce", "weighted-ce"], cv=3, repeats=1, progress=False,
                                 class_names=data.class_names, n_jobs=1)
    result.dataset["name"] = data.description
    return html_report(result)


def test_self_contained_with_six_png_figures(report: str) -> None:
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", report)
    assert len(images) == 6  # raw and calibrated reliability, PR/ROC, metrics, training, the texts' curve
    for image in images:
        assert base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r"(src|href)=['\"](https?:|//|file:)", report)
    assert "Recommendation:" in report and "weighted-ce" in report
    for section in ("Decisions", "Probabilities", "Notes", "Confusion at the chosen rule", "CI (corrected"):
        assert section in report


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_every_image_renders_in_headless_chromium(report: str, tmp_path: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    # After load, the page titles itself with how many images decoded to a non-empty bitmap.
    probe = ("<script>window.addEventListener('load', () => { const ok = [...document.images]"
             ".filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0).length;"
             " document.title = 'rendered ' + ok + ' of ' + document.images.length; });</script>")
    page = tmp_path / "report.html"
    page.write_text(report.replace("</body>", probe + "</body>"), encoding="utf-8")
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert "<title>rendered 6 of 6</title>" in done.stdout, done.stderr[-2000:]
