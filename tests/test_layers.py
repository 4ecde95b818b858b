"""The layers hold: import-linter checks the contracts in pyproject.toml ([tool.importlinter])."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    return subprocess.run([command, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_every_layer_contract_is_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_broken_contract_fails_the_check(tmp_path: Path) -> None:
    """The check can fail: a contract the code breaks (the CLI imports the verifier) is reported."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "vc_runid"\n\n'
        '[[tool.importlinter.contracts]]\nname = "deliberately broken"\ntype = "forbidden"\n'
        'source_modules = ["vc_runid.cli.main"]\nforbidden_modules = ["vc_runid.vc.verification"]\n'
    )
    result = _lint_imports("--config", str(config))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
