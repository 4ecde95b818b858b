"""Every example in examples/ runs as written from the repository root and ends in a valid run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _run(command: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The venv's bin directory first, so the shell example finds this installation's vc-runid.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "PATH": path, "RUNID_HOME": str(home), "PYTHON": sys.executable, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _assert_valid(result: subprocess.CompletedProcess[str]) -> None:
    detail = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, detail
    assert "VALID (bound)" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["openai_request.py", "local_model.py"])
def test_python_example_runs_and_verifies(name: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _assert_valid(_run([sys.executable, str(EXAMPLES / name)], home))
    assert (home / "keys" / "issuer.jwk").is_file()
    assert (home / "runs.sqlite3").is_file()


def test_local_model_example_checks_the_weights(tmp_path: Path) -> None:
    result = _run([sys.executable, str(EXAMPLES / "local_model.py")], tmp_path / "home")
    assert "weights on disk match the declaration: True" in result.stdout, result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_run_wrapper_example_runs_and_verifies(tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    script = str(EXAMPLES / "run_wrapper.sh")
    result = _run(["bash", script], tmp_path / "home", OUT_DIR=str(out_dir))
    _assert_valid(result)
    assert {p.name for p in out_dir.iterdir()} == {"declaration.json", "binding.json", "output.txt"}
    assert (out_dir / "output.txt").read_text().startswith("Yes:")
