"""examples/gateway_demo.py runs as written and both of its runs verify."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("openai")


def test_the_gateway_example_runs_and_verifies(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gateway_demo.py")], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={**os.environ, "RUNID_HOME": str(tmp_path / "home")}, check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("VALID (bound)") == 2, result.stdout
