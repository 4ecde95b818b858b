"""Run identity through the ``vc-runid`` command, as a user types it.

Every test has its own home (``--home`` and ``RUNID_HOME``), so key store and run store are never
shared. Exit codes are the contract: 0 valid / done, 1 invalid / refused (with its code on
stderr), 2 usage. No command may ever print a traceback or end on an uncaught exception.

Most commands run in-process (Typer's runner, from the workspace directory) to keep the suite
fast; the issue's main path, ``run`` and a refusal also go through a real ``python -m vc_runid``
process, the way a user's shell runs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.trust import with_trust
from vc_runid import KeyType, init_home, verify_credential
from vc_runid.cli.main import app
from vc_runid.runs.digests import hash_weights
from vc_runid.store.home import load_issuer

SYSTEM_PROMPT = "You are a careful billing assistant.\n"
USER_INPUT = "What is the balance of account 42?\n"
SEARCH_TOOL = {
    "name": "search",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
}

# Exactly the manifest shape of issue 3.
MANIFEST = """\
model: {id: gpt-4o-2024-08-06, provider: openai, weights: ./weights}   # weights: optional file or directory to hash
parameters: {temperature: 0.2, max_tokens: 256, seed: 7}
instructions: [prompts/system.txt]
retrieval: [docs/a.md, docs/b.md]
tools: [tools/search.json]
input: input.txt
executor: {id: billing-agent-7}
"""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


class Cli:
    """``vc-runid`` with one home, run from the workspace directory."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.home = home
        self.cwd = cwd

    def __call__(self, *args: str | Path, home: bool = True, process: bool = False) -> Result:
        """Run the command in-process, or with ``process=True`` as ``python -m vc_runid``."""
        argv = [str(a) for a in args] + (["--home", str(self.home)] if home else [])
        # These tests verify the home's own runs: its issuer is the one trusted.
        argv = with_trust(argv, "--trusted-issuer", load_issuer(self.home).did) if self.home.exists() else argv
        env = {"RUNID_HOME": str(self.home)}
        if process:
            done = subprocess.run(
                [sys.executable, "-m", "vc_runid", *argv],
                check=False,
                cwd=self.cwd,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                timeout=60,
            )
            result = Result(done.returncode, done.stdout, done.stderr)
        else:
            with contextlib.chdir(self.cwd):
                invoked = CliRunner(env=env).invoke(app, argv)
            assert invoked.exception is None or isinstance(invoked.exception, SystemExit), repr(
                invoked.exception
            )
            result = Result(invoked.exit_code, invoked.stdout, invoked.stderr)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    def runs(self) -> list[dict[str, Any]]:
        result = self("runs", "list", "--json")
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout))

    def show(self, run_id: str) -> dict[str, Any]:
        result = self("runs", "show", run_id)
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    directory = tmp_path / "work"
    (directory / "weights" / "shards").mkdir(parents=True)
    (directory / "weights" / "config.json").write_text('{"layers": 2}')
    (directory / "weights" / "shards" / "00001.bin").write_bytes(bytes(range(256)) * 16)
    (directory / "prompts").mkdir()
    (directory / "prompts" / "system.txt").write_text(SYSTEM_PROMPT)
    (directory / "docs").mkdir()
    (directory / "docs" / "a.md").write_text("Account 42 was opened in 2019.\n")
    (directory / "docs" / "b.md").write_text("Balances are reported in EUR.\n")
    (directory / "tools").mkdir()
    (directory / "tools" / "search.json").write_text(json.dumps(SEARCH_TOOL, indent=2))
    (directory / "input.txt").write_text(USER_INPUT)
    (directory / "manifest.yaml").write_text(MANIFEST)
    (directory / "output.txt").write_text("The balance of account 42 is 17 EUR.\n")
    return directory


@pytest.fixture
def cli(tmp_path: Path, workspace: Path) -> Cli:
    home = tmp_path / "home"
    init_home(home)
    return Cli(home, workspace)


def declare(cli: Cli, *extra: str, out: str = "declaration.json", process: bool = False) -> str:
    """Declare the workspace manifest; return the run id."""
    result = cli("declare", "manifest.yaml", "--out", out, *extra, process=process)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stderr.splitlines() if line.startswith("declared run "))
    return line.removeprefix("declared run ").strip()


def bind(
    cli: Cli,
    *extra: str,
    declaration: str = "declaration.json",
    out: str = "binding.json",
    process: bool = False,
) -> None:
    result = cli(
        "bind", declaration, "--output", "output.txt", "--out", out, *extra, process=process
    )
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------------
# declare → bind → verify
# ------------------------------------------------------------------------------------------


def test_declare_bind_verify_with_the_manifest_of_the_issue(cli: Cli, workspace: Path) -> None:
    run_id = declare(cli, process=True)
    declaration = json.loads((workspace / "declaration.json").read_text())
    subject = declaration["credentialSubject"]
    assert subject["id"] == run_id
    assert (
        subject["model"]["weights"]["digestMultibase"] == hash_weights(workspace / "weights").root
    )
    assert [d["documentId"] for d in subject["retrievalContext"]["documents"]] == [
        "docs/a.md",
        "docs/b.md",
    ]
    assert subject["tools"][0]["name"] == "search"

    bind(cli, process=True)
    result = cli(
        "verify",
        "declaration.json",
        "binding.json",
        "--output",
        "output.txt",
        home=False,
        process=True,
    )

    assert result.returncode == 0, result.stdout
    assert f"run {run_id}: VALID (bound)" in result.stdout
    assert cli.show(run_id)["status"] == "bound"


FORMATS = [
    # (--format, the format the verification report names for both credentials)
    ("di-2020", "Ed25519Signature2020"),
    ("jose", "vc-jose"),
    ("jwt-1.1", "vc-jwt-1.1"),
    ("ecdsa", "ecdsa-rdfc-2019"),
]


@pytest.mark.parametrize(("proof_format", "reported"), FORMATS, ids=[f for f, _ in FORMATS])
def test_declare_bind_verify_in_other_formats(
    tmp_path: Path, workspace: Path, proof_format: str, reported: str
) -> None:
    home = tmp_path / "home"
    init_home(home, KeyType.P256 if proof_format == "ecdsa" else KeyType.ED25519)
    cli = Cli(home, workspace)
    declare(cli, "--format", proof_format)
    bind(cli)  # no --format: the binding is secured like its declaration
    result = cli(
        "verify", "declaration.json", "binding.json", "--output", "output.txt", "--json", home=False
    )
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["status"] == "bound"
    assert report["format"] == reported
    binding = verify_credential((workspace / "binding.json").read_bytes())
    assert binding.valid and binding.format == reported


def test_verify_json_report_names_every_run_rule(cli: Cli) -> None:
    declare(cli)
    bind(cli)
    result = cli(
        "verify", "declaration.json", "binding.json", "--output", "output.txt", "--json", home=False
    )
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["status"] == "bound"
    names = {check["name"] for check in report["checks"] if check["passed"]}
    assert {"link", "run-id", "time-order", "composition", "output"} <= names


# ------------------------------------------------------------------------------------------
# Bad manifests: the error names the field or the file, and nothing is stored
# ------------------------------------------------------------------------------------------

BAD_MANIFESTS = [
    # (name, manifest text, expected code, text the message must contain)
    (
        "unknown top-level field",
        MANIFEST + "instrutions: [prompts/system.txt]\n",
        "RUNID_MANIFEST_INVALID",
        "instrutions",
    ),
    (
        "unknown model field",
        MANIFEST.replace("weights: ./weights", "weigths: ./weights"),
        "RUNID_MANIFEST_INVALID",
        "model.weigths",
    ),
    (
        "missing model",
        "\n".join(MANIFEST.splitlines()[1:]) + "\n",
        "RUNID_MANIFEST_INVALID",
        "'model'",
    ),
    (
        "unreadable input file",
        MANIFEST.replace("input: input.txt", "input: missing-input.txt"),
        "RUNID_FILE_UNREADABLE",
        "missing-input.txt",
    ),
    (
        "unreadable instruction file",
        MANIFEST.replace("prompts/system.txt", "prompts/nope.txt"),
        "RUNID_FILE_UNREADABLE",
        "prompts/nope.txt",
    ),
    (
        "missing weights",
        MANIFEST.replace("./weights", "./no-weights"),
        "RUNID_FILE_UNREADABLE",
        "no-weights",
    ),
    (
        "tool file that is not JSON",
        MANIFEST.replace("tools/search.json", "input.txt"),
        "RUNID_MANIFEST_INVALID",
        "input.txt",
    ),
    ("not a mapping", "- model\n", "RUNID_MANIFEST_INVALID", "mapping"),
]


@pytest.mark.parametrize(
    ("text", "code", "named"), [c[1:] for c in BAD_MANIFESTS], ids=[c[0] for c in BAD_MANIFESTS]
)
def test_invalid_manifest_is_refused_with_an_error_naming_the_field_or_file(
    cli: Cli, workspace: Path, text: str, code: str, named: str
) -> None:
    (workspace / "bad.yaml").write_text(text)
    result = cli("declare", "bad.yaml", "--out", "declaration.json")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{code}: ")
    assert named in result.stderr
    assert not (workspace / "declaration.json").exists()
    assert cli.runs() == []


def test_unreadable_manifest_file_is_named(cli: Cli) -> None:
    result = cli("declare", "no-such-manifest.yaml")
    assert result.returncode == 1
    assert result.stderr.startswith("RUNID_FILE_UNREADABLE: ")
    assert "no-such-manifest.yaml" in result.stderr


# ------------------------------------------------------------------------------------------
# Bad binds: refused with their code, nothing stored is lost or overwritten
# ------------------------------------------------------------------------------------------


def test_binding_twice_is_already_bound_and_the_stored_binding_is_unchanged(
    cli: Cli, workspace: Path
) -> None:
    run_id = declare(cli)
    bind(cli)
    stored = cli.show(run_id)["binding"]
    (workspace / "output.txt").write_text("a different answer\n")

    result = cli(
        "bind", "declaration.json", "--output", "output.txt", "--out", "binding2.json", process=True
    )

    assert result.returncode == 1
    assert result.stderr.startswith("RUNID_ALREADY_BOUND: ")
    assert not (workspace / "binding2.json").exists()
    assert (
        cli.show(run_id)["binding"]
        == stored
        == json.loads((workspace / "binding.json").read_text())
    )


def test_binding_a_declaration_that_does_not_verify_is_declaration_invalid(
    cli: Cli, workspace: Path
) -> None:
    run_id = declare(cli)
    declaration = json.loads((workspace / "declaration.json").read_text())
    declaration["credentialSubject"]["model"]["modelId"] = "gpt-3.5-turbo"
    (workspace / "tampered.json").write_text(json.dumps(declaration))

    result = cli("bind", "tampered.json", "--output", "output.txt", "--out", "binding.json")

    assert result.returncode == 1
    assert result.stderr.startswith("RUNID_DECLARATION_INVALID: ")
    assert "RUNID_PROOF_INVALID" in result.stderr
    assert not (workspace / "binding.json").exists()
    assert cli.show(run_id)["status"] == "declared"


def test_binding_with_started_after_completed_is_time_order(cli: Cli, workspace: Path) -> None:
    run_id = declare(cli)
    result = cli(
        "bind",
        "declaration.json",
        "--output",
        "output.txt",
        "--out",
        "binding.json",
        "--started",
        "2099-01-02T00:00:00Z",
        "--completed",
        "2099-01-01T00:00:00Z",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("RUNID_TIME_ORDER: ")
    assert not (workspace / "binding.json").exists()
    assert cli.show(run_id)["status"] == "declared"


def test_binding_with_started_before_the_declaration_is_declared_after_start(cli: Cli) -> None:
    run_id = declare(cli)
    result = cli(
        "bind",
        "declaration.json",
        "--output",
        "output.txt",
        "--started",
        "2020-01-01T00:00:00Z",
        "--completed",
        "2020-01-01T00:01:00Z",
    )
    assert result.returncode == 1
    assert result.stderr.startswith("RUNID_DECLARED_AFTER_START: ")
    assert cli.show(run_id)["status"] == "declared"


# ------------------------------------------------------------------------------------------
# vc-runid run -- COMMAND
# ------------------------------------------------------------------------------------------

ECHO_ENV = (
    "import os, sys; print('hi'); "
    "print(os.environ['RUNID_RUN_ID']); print(os.environ['RUNID_DECLARATION']); "
    "sys.exit(int(sys.argv[1]))"
)


@pytest.mark.parametrize("exit_code", [0, 3])
def test_run_declares_executes_and_binds_passing_the_exit_code_on(
    cli: Cli, workspace: Path, exit_code: int
) -> None:
    result = cli(
        "run",
        "--manifest",
        "manifest.yaml",
        "--out-dir",
        "out",
        "--",
        sys.executable,
        "-c",
        ECHO_ENV,
        str(exit_code),
        process=exit_code != 0,
    )

    assert result.returncode == exit_code, result.stderr
    out = workspace / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "binding.json",
        "declaration.json",
        "output.txt",
    ]
    declaration = json.loads((out / "declaration.json").read_text())
    run_id = declaration["credentialSubject"]["id"]
    # The command saw the run id and the declaration's path in its environment.
    assert (out / "output.txt").read_text().splitlines() == [
        "hi",
        run_id,
        str((out / "declaration.json").resolve()),
    ]
    assert result.stdout.startswith("hi\n")

    binding = json.loads((out / "binding.json").read_text())
    assert binding["credentialSubject"]["observed"] == {"exitCode": exit_code}
    assert cli.show(run_id)["status"] == "bound"
    verified = cli(
        "verify",
        "out/declaration.json",
        "out/binding.json",
        "--output",
        "out/output.txt",
        home=False,
    )
    assert verified.returncode == 0, verified.stdout


def test_run_without_a_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("run", "--manifest", "manifest.yaml")
    assert result.returncode == 2
    assert result.stderr.startswith("RUNID_USAGE: ")
    assert cli.runs() == []


# ------------------------------------------------------------------------------------------
# vc-runid verify: exit codes, the binding alone, disclosure
# ------------------------------------------------------------------------------------------


def test_verify_exit_codes_are_0_valid_1_invalid_2_usage(cli: Cli, workspace: Path) -> None:
    declare(cli)
    bind(cli)
    (workspace / "tampered-output.txt").write_text("The balance of account 42 is 1700 EUR.\n")

    valid = cli("verify", "declaration.json", "binding.json", "--output", "output.txt", home=False)
    invalid = cli(
        "verify", "declaration.json", "binding.json", "--output", "tampered-output.txt", home=False
    )
    usage = cli("verify", "declaration.json", "binding.json", "binding.json", home=False)
    no_files = cli("verify", home=False)

    assert valid.returncode == 0
    assert invalid.returncode == 1
    assert "FAIL output [RUNID_OUTPUT_MISMATCH]" in invalid.stdout
    assert usage.returncode == 2 and usage.stderr.startswith("RUNID_USAGE: ")
    assert no_files.returncode == 2


def test_verify_declaration_alone_is_declared_not_yet_bound(cli: Cli) -> None:
    run_id = declare(cli)
    result = cli("verify", "declaration.json", home=False)
    assert result.returncode == 0
    assert f"run {run_id}: VALID (declared, not yet bound)" in result.stdout


def test_verify_binding_alone_is_binding_without_declaration(cli: Cli) -> None:
    declare(cli)
    bind(cli)
    result = cli("verify", "binding.json", home=False)
    assert result.returncode == 1
    assert "RUNID_BINDING_WITHOUT_DECLARATION" in result.stdout


def test_verify_binding_with_another_runs_declaration_is_declaration_mismatch(cli: Cli) -> None:
    declare(cli)
    bind(cli)
    declare(cli, out="other-declaration.json")
    result = cli("verify", "other-declaration.json", "binding.json", home=False)
    assert result.returncode == 1
    assert "FAIL link [RUNID_DECLARATION_MISMATCH]" in result.stdout


def test_verify_disclose_checks_a_file_from_disclose(cli: Cli, workspace: Path) -> None:
    run_id = declare(cli)
    bind(cli)
    made = cli(
        "disclose", run_id, "instructions[0]", "tools[0]", "input", "--out", "disclosure.json"
    )
    assert made.returncode == 0, made.stderr
    items = json.loads((workspace / "disclosure.json").read_text())
    assert [i["path"] for i in items] == ["instructions[0]", "tools[0]", "input"]
    assert items[0]["content"] == SYSTEM_PROMPT and items[0]["salt"]

    result = cli(
        "verify", "declaration.json", "binding.json", "--disclose", "disclosure.json", home=False
    )
    assert result.returncode == 0, result.stdout
    for path in ("instructions[0]", "tools[0]", "input"):
        assert f"ok   disclosure.{path}" in result.stdout

    items[0]["content"] = "You are a careless billing assistant.\n"
    (workspace / "wrong.json").write_text(json.dumps(items[:1]))
    wrong = cli(
        "verify", "declaration.json", "binding.json", "--disclose", "wrong.json", home=False
    )
    assert wrong.returncode == 1
    assert "FAIL disclosure.instructions[0] [RUNID_DISCLOSURE_MISMATCH]" in wrong.stdout


def test_disclose_of_an_unknown_component_is_a_usage_error(cli: Cli) -> None:
    run_id = declare(cli)
    result = cli("disclose", run_id, "instructions[9]")
    assert result.returncode == 2
    assert "instructions[9]" in result.stderr


# ------------------------------------------------------------------------------------------
# digest, runs, demo
# ------------------------------------------------------------------------------------------


def test_digest_of_a_directory_prints_the_weights_root(cli: Cli, workspace: Path) -> None:
    result = cli("digest", "weights", home=False)
    assert result.returncode == 0, result.stderr
    tree = hash_weights(workspace / "weights")
    assert result.stdout.split()[0] == tree.root
    assert "2 files" in result.stdout


def test_digest_of_a_missing_path_is_file_unreadable(cli: Cli) -> None:
    result = cli("digest", "no-such-weights", home=False)
    assert result.returncode == 1
    assert result.stderr.startswith("RUNID_FILE_UNREADABLE: ")


def test_runs_list_shows_declared_and_bound_runs(cli: Cli) -> None:
    first = declare(cli)
    bind(cli)
    second = declare(cli, out="second.json")

    listed = cli("runs", "list")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert any(line.startswith(first) and line.endswith("bound") for line in lines)
    assert any(line.startswith(second) and line.endswith("declared") for line in lines)
    assert {r["runId"]: r["status"] for r in cli.runs()} == {first: "bound", second: "declared"}


def test_runs_show_of_an_unknown_run_is_run_not_found(cli: Cli) -> None:
    result = cli("runs", "show", "urn:uuid:00000000-0000-4000-8000-000000000000")
    assert result.returncode == 1
    assert result.stderr.startswith("RUNID_RUN_NOT_FOUND: ")


def test_demo_verifies_a_run_and_catches_a_tampered_output(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "fresh-home", tmp_path)  # no init: the demo needs zero setup
    result = cli("demo", "--out-dir", tmp_path / "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID (bound)" in result.stdout
    assert "RUNID_OUTPUT_MISMATCH" in result.stdout
    for name in ("manifest.yaml", "declaration.json", "binding.json", "output.txt"):
        assert (tmp_path / "demo" / name).is_file()
    verified = cli(
        "verify",
        tmp_path / "demo" / "declaration.json",
        tmp_path / "demo" / "binding.json",
        "--output",
        tmp_path / "demo" / "output.txt",
        home=False,
    )
    assert verified.returncode == 0, verified.stdout
