"""The HTML audit report in a real browser (issue 5, "Reading it"): headless Chromium from the
Debian packages renders the report of a real bundle; the screenshot is kept as a test artifact
(``test-artifacts/report.png``) and the DOM Chromium built must show each run and its verdict.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import vc_runid as runid
from vc_runid.bundle.archive import create_bundle, verify_bundle
from vc_runid.bundle.report import render_html

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--window-size=1200,900", *args,
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=180)


@pytest.fixture
def report_html(tmp_path: Path) -> tuple[Path, list[tuple[str, str]]]:
    """The HTML report of a real bundle: a valid run (with a disclosure and its output), an
    unbound one, and one whose observed model drifted."""
    home = tmp_path / "home"
    runid.init_home(home)
    issuer, store = runid.load_issuer(home), runid.RunStore.in_home(home)
    ticks = itertools.count()

    def clock() -> datetime:
        return T0 + timedelta(seconds=next(ticks))

    def composition() -> tuple[runid.RunComposition, runid.Disclosures]:
        return (
            runid.CompositionBuilder().model("llama-3.1-8b-instruct", provider="local")
            .instruction("You are a careful assistant.").input("What is the capital of France?").build()
        )

    with runid.run(composition(), issuer=issuer, store=store, clock=clock) as valid:
        valid.record_output("Paris.", observed={"modelId": "llama-3.1-8b-instruct"})
    with pytest.raises(RuntimeError), runid.run(composition(), issuer=issuer, store=store, clock=clock) as unbound:
        raise RuntimeError("crashed")
    with runid.run(composition(), issuer=issuer, store=store, clock=clock) as drift:
        drift.record_output("Paris!", observed={"modelId": "gpt-4o"})
    output = tmp_path / "answer.txt"
    output.write_text("Paris.")
    bundle = create_bundle(
        home, [valid.run_id, unbound.run_id, drift.run_id], tmp_path / "audit.zip",
        disclose=[f"{valid.run_id}=instructions[0]"], include_outputs={valid.run_id: output},
    )
    report = verify_bundle(bundle, at=T0 + timedelta(hours=1), policy=runid.TrustPolicy.trusting(issuer.did))
    assert [r.verdict for r in report.runs] == ["valid", "unbound", "drift"]
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page, [(r.run_id, r.verdict.upper()) for r in report.runs]


def test_the_html_report_renders_in_headless_chromium(report_html: tuple[Path, list[tuple[str, str]]], tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        message = (
            "CHROMIUM IS NOT INSTALLED: the browser check of the HTML audit report did NOT run "
            "(install it with: apt-get update && apt-get install -y chromium)"
        )
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    page, runs = report_html
    shot = tmp_path / "report.png"
    rendered = _chromium(tmp_path / "profile-shot", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), rendered.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 5 * 1024, "the screenshot is (nearly) blank"
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "report.png")

    dumped = _chromium(tmp_path / "profile-dom", "--dump-dom", page.as_uri())
    dom = dumped.stdout
    assert "Audit report" in dom, dumped.stderr[-2000:]
    for run_id, verdict in runs:
        assert run_id in dom
        assert f">{verdict}<" in dom
    assert "1 valid" in dom and "1 unbound" in dom and "1 drift" in dom
