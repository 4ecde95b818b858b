"""Bulk audit in worker processes decides exactly what one process decides, and the command says
how fast it ran and how busy the machine was (issue 13).

Discovery (reading, parsing and classifying every file) runs in ``workers`` processes for many
files; the pairing after it runs once, in the parent, on the same classifications in the same
order. Here the directory holds every case discovery handles (the 30-run figure of
tests/test_audit.py plus each of its adversarial mutations, an identical copy, files that are
not credentials), and the threshold is lowered so a small directory takes the pool path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_audit import (
    AT,
    MUTATIONS,
    VERIFY_AT,
    Figure,
    audit_cli,
    audit_runs,
    figure,
    issuer,
    make_run,
    write_run,
)

from vc_runid import Issuer
from vc_runid.audit import bulk
from vc_runid.audit.bulk import discover_runs

__all__ = ["figure", "issuer"]  # fixtures, used by name


@pytest.fixture(scope="module")
def messy(figure: Figure, issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The figure's runs, and next to them one run per discovery mutation and a copied run."""
    root = tmp_path_factory.mktemp("messy")
    for source in figure.directory.rglob("*"):
        if source.is_file():
            target = root / "figure" / source.relative_to(figure.directory)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    for index, (name, mutation, _) in enumerate(MUTATIONS):
        directory = root / f"mutation-{index}"
        current = make_run(issuer, 100 + index)
        write_run(directory / "run", current)
        mutation(directory, current, issuer)
        assert name
    copied = make_run(issuer, 200)
    write_run(root / "copied" / "a", copied)
    write_run(root / "copied" / "b", copied)
    return root


@pytest.mark.parametrize("workers", [2, 3])
def test_discovery_in_workers_finds_the_same_runs(messy: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = discover_runs(messy, workers=1)
    monkeypatch.setattr(bulk, "_MIN_FILES_FOR_WORKERS", 0)

    pooled = discover_runs(messy, workers=workers)

    assert pooled == alone
    assert len(alone) > 30 and any(run.problems for run in alone) and any(run.duplicates for run in alone)


def test_the_audit_of_a_messy_directory_is_the_same_in_workers(messy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = audit_runs(discover_runs(messy, workers=1), now=VERIFY_AT, workers=1)
    monkeypatch.setattr(bulk, "_MIN_FILES_FOR_WORKERS", 0)

    pooled = audit_runs(discover_runs(messy, workers=2), now=VERIFY_AT, workers=2)

    assert pooled.model_dump() == alone.model_dump()


def test_few_files_are_classified_without_starting_workers(messy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pool was started")

    monkeypatch.setattr(bulk, "_in_pool", no_pool)
    assert discover_runs(messy, workers=2)


def test_discovery_refuses_zero_workers(messy: Path) -> None:
    with pytest.raises(bulk.UsageError):
        discover_runs(messy, workers=0)


_THROUGHPUT = re.compile(
    r"audited (\d+) runs? in \d+\.\d\d s \([\d,]+ runs/s\); (load average \d+\.\d\d on )?\d+ CPUs( at the start)?"
)


def test_the_command_prints_its_speed_and_the_machine_load_on_stderr(figure: Figure) -> None:
    result = audit_cli(figure.directory, "--at", AT, "--workers", "2")

    timing = _THROUGHPUT.fullmatch(result.stderr.strip())
    assert timing is not None, result.stderr
    assert timing.group(1) == "30"
    assert "runs/s" not in result.stdout  # the report and its summary line are unchanged
