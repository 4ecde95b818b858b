"""A newcomer's first hour (issue 11): no lost runs, no silent overwrites, no misleading messages.

One section per item of the issue. Commands run in-process (Typer's runner) where that is enough,
and as a real process where the process is the point: exit codes, help text, memory, PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import vc_runid as runid
from tests.server.conftest import Server
from vc_runid import init_home
from vc_runid._internal.timeutil import utc_now
from vc_runid.cli.main import app, command
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.runs import output_digest
from vc_runid.runs.binding import COMPLETION_CLOCK_SKEW, check_completed_by
from vc_runid.store.home import load_issuer

ROOT = Path(__file__).resolve().parents[1]
VC_RUNID = Path(sys.executable).parent / "vc-runid"

MANIFEST = """\
model: {id: gpt-4o-2024-08-06, provider: openai}
parameters: {temperature: 0.2}
instructions: [system.txt]
input: input.txt
"""


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Cli:
    """``vc-runid`` with one home, run in one directory."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.home, self.cwd = home, cwd

    def __call__(self, *args: str | Path, process: bool = False, env: dict[str, str] | None = None) -> Result:
        argv = [str(a) for a in args]
        if process:
            done = subprocess.run(
                [str(VC_RUNID), *argv], cwd=self.cwd, capture_output=True, text=True, timeout=120, check=False,
                env={**os.environ, "RUNID_HOME": str(self.home), **(env or {})},
            )
            result = Result(done.returncode, done.stdout, done.stderr)
        else:
            with contextlib.chdir(self.cwd):
                invoked = CliRunner(env={"RUNID_HOME": str(self.home), **(env or {})}).invoke(app, argv)
            assert invoked.exception is None or isinstance(invoked.exception, SystemExit), repr(invoked.exception)
            result = Result(invoked.exit_code, invoked.stdout, invoked.stderr)
        assert "Traceback" not in result.out + result.err, result.err
        return result

    @property
    def did(self) -> str:
        return load_issuer(self.home).did

    def runs(self) -> list[dict[str, str]]:
        return list(json.loads(self("runs", "list", "--json").out))

    def declare(self, out: str = "decl.json") -> str:
        result = self("declare", "manifest.yaml", "--out", out)
        assert result.code == 0, result.err
        return re.search(r"declared run (\S+)", result.err).group(1)  # type: ignore[union-attr]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    work = tmp_path / "work"
    work.mkdir()
    (work / "system.txt").write_text("You are a billing assistant.\n")
    (work / "input.txt").write_text("What is my balance?\n")
    (work / "manifest.yaml").write_text(MANIFEST)
    (work / "out.txt").write_text("Your balance is 0 EUR.\n")
    init_home(tmp_path / "home")
    return Cli(tmp_path / "home", work)


# --- 1. a failed --out issues nothing -------------------------------------------------------


@pytest.mark.parametrize("out", ["/no/such/dir/x.json", "."], ids=["missing-directory", "a-directory"])
def test_an_output_path_that_cannot_be_written_is_refused_before_anything_is_issued(cli: Cli, out: str) -> None:
    refused = cli("declare", "manifest.yaml", "--out", out)
    assert refused.code == 2 and refused.err.startswith("RUNID_USAGE: ") and "nothing was issued" in refused.err
    assert cli.runs() == []

    run_id = cli.declare()
    refused = cli("bind", "decl.json", "--output", "out.txt", "--out", out)
    assert refused.code == 2 and "nothing was issued" in refused.err
    assert [r["status"] for r in cli.runs()] == ["declared"]
    # ... so the retry a user makes next simply works (not RUNID_ALREADY_BOUND).
    assert cli("bind", "decl.json", "--output", "out.txt", "--out", "binding.json").code == 0
    assert [(r["runId"], r["status"]) for r in cli.runs()] == [(run_id, "bound")]

    for args in (
        ["issue", "manifest.yaml", "--out", out],
        ["present", run_id, "--challenge", "c", "--domain", "d", "--out", out],
        ["disclose", run_id, "input", "--out", out],
        ["bundle", run_id, "--out", out],
    ):
        result = cli(*args)
        assert result.code == 2 and "nothing was issued" in result.err, (args, result.err)


def test_a_write_that_fails_after_issuing_says_what_was_issued_and_how_to_get_it_back(cli: Cli) -> None:
    # /dev/full passes every check (it exists, it is writable) and then fails the write: ENOSPC.
    result = cli("declare", "manifest.yaml", "--out", "/dev/full")
    assert result.code == 1, result.err
    assert result.err.splitlines()[-1].startswith("RUNID_OUTPUT_WRITE_FAILED: ")
    run_id = re.search(r"declared run (\S+)", result.err).group(1)  # type: ignore[union-attr]
    assert f"vc-runid runs show {run_id}" in result.err
    shown = json.loads(cli("runs", "show", run_id).out)
    assert shown["declaration"]["credentialSubject"]["id"] == run_id

    (cli.cwd / "decl.json").write_text(json.dumps(shown["declaration"]))
    result = cli("bind", "decl.json", "--output", "out.txt", "--out", "/dev/full")
    assert result.code == 1 and result.err.startswith("RUNID_OUTPUT_WRITE_FAILED: ")
    assert "binding was issued" in result.err and f"runs show {run_id}" in result.err
    assert json.loads(cli("runs", "show", run_id).out)["binding"] is not None


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Server:
    server = Server(tmp_path_factory.mktemp("issuer") / "home")
    yield server
    server.kill()


def _log_size(service: Server) -> int:
    return int(httpx.get(f"{service.url}/log/checkpoint", timeout=10).text.split("\n")[1])


def test_with_an_issuer_service_a_bad_out_path_writes_nothing_into_its_log(cli: Cli, service: Server) -> None:
    before = _log_size(service)
    refused = cli(
        "declare", "manifest.yaml", "--issuer", service.url, "--token", service.tokens["alice"],
        "--out", "/no/such/dir/x.json",
    )
    assert refused.code == 2 and "nothing was issued" in refused.err
    assert _log_size(service) == before  # no orphan declaration for `log audit` to report


# --- 2. a local binding completed in the future ---------------------------------------------


def test_a_local_bind_completed_in_the_future_is_refused_like_the_service_does(cli: Cli) -> None:
    run_id = cli.declare()
    future = (utc_now() + timedelta(days=365 * 4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    refused = cli("bind", "decl.json", "--output", "out.txt", "--completed", future, "--out", "binding.json")
    assert refused.code == 1 and refused.err.startswith("RUNID_TIME_IN_FUTURE: ")
    assert not (cli.cwd / "binding.json").exists()
    assert [(r["runId"], r["status"]) for r in cli.runs()] == [(run_id, "declared")]  # can still be bound
    assert cli("bind", "decl.json", "--output", "out.txt", "--out", "binding.json").code == 0


def test_the_completion_rule_has_no_clock_skew_allowance_in_the_library() -> None:
    now = utc_now()
    assert COMPLETION_CLOCK_SKEW == timedelta(0)
    check_completed_by(now, now)
    with pytest.raises(RunIdError) as refused:
        check_completed_by(now + timedelta(milliseconds=1), now)
    assert refused.value.code is ErrorCode.TIME_IN_FUTURE

    issuer = runid.Issuer.generate()
    composition = runid.CompositionBuilder().model("m").input("hi").build()
    declaration = runid.declare(composition[0], issuer, declared_at=now)
    assert isinstance(declaration, dict)
    with pytest.raises(RunIdError) as refused:
        runid.bind(
            declaration, issuer, declaration_id=declaration["id"], run_id=declaration["credentialSubject"]["id"],
            output=output_digest(b"x"), started_at=now, completed_at=now + timedelta(hours=1), bound_at=now,
        )
    assert refused.value.code is ErrorCode.TIME_IN_FUTURE


def test_the_service_applies_the_same_function() -> None:
    source = (ROOT / "vc_runid" / "server" / "app.py").read_text()
    assert "check_completed_by(completed, now" in source


# --- 3. run --out-dir never overwrites an earlier run ---------------------------------------


def test_run_refuses_a_non_empty_out_dir_before_declaring_and_keeps_the_earlier_run(cli: Cli) -> None:
    command_ = ["--", sys.executable, "-c", "print('first')"]
    assert cli("run", "--manifest", "manifest.yaml", "--out-dir", "run1", *command_).code == 0
    first = {p.name: p.read_bytes() for p in (cli.cwd / "run1").iterdir()}
    assert set(first) == {"declaration.json", "binding.json", "output.txt"}

    again = cli("run", "--manifest", "manifest.yaml", "--out-dir", "run1", "--", sys.executable, "-c", "print('second')")
    assert again.code == 2 and "is not empty" in again.err and "--force" in again.err
    assert {p.name: p.read_bytes() for p in (cli.cwd / "run1").iterdir()} == first
    assert len(cli.runs()) == 1  # nothing declared

    forced = cli("run", "--manifest", "manifest.yaml", "--out-dir", "run1", "--force", "--", sys.executable, "-c", "print('second')")
    assert forced.code == 0 and (cli.cwd / "run1" / "output.txt").read_text() == "second\n"
    assert len(cli.runs()) == 2

    default = cli("run", "--manifest", "manifest.yaml", "--", sys.executable, "-c", "print('third')")
    assert default.code == 0
    assert len([p for p in cli.cwd.iterdir() if p.name.startswith("run-")]) == 1


# --- 4. outputs are streamed -------------------------------------------------------------------

_MAX_RSS = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.stderr.strip()[-300:])
"""


def _peak_kib(cli: Cli, *args: str) -> tuple[int, int, str]:
    done = subprocess.run(
        [sys.executable, "-c", _MAX_RSS, str(VC_RUNID), *args], cwd=cli.cwd, capture_output=True, text=True,
        timeout=300, check=True, env={**os.environ, "RUNID_HOME": str(cli.home)},
    )
    code, rss, err = done.stdout.split(" ", 2)
    return int(code), int(rss), err


def test_bind_and_verify_stream_a_large_output_instead_of_holding_it(cli: Cli) -> None:
    size = 192 * 1024 * 1024
    with open(cli.cwd / "big.bin", "wb") as big:
        big.truncate(size)  # sparse: the test costs hashing time, not disk
    cli.declare()
    code, rss, err = _peak_kib(cli, "bind", "decl.json", "--output", "big.bin", "--out", "binding.json")
    assert code == 0, err
    assert rss * 1024 < size * 3 // 4, f"bind peaked at {rss} KiB for a {size >> 20} MiB output"
    binding = json.loads((cli.cwd / "binding.json").read_text())
    assert binding["credentialSubject"]["output"]["size"] == size

    code, rss, err = _peak_kib(
        cli, "verify", "decl.json", "binding.json", "--output", "big.bin", "--trusted-issuer", cli.did
    )
    assert code == 0, err
    assert rss * 1024 < size * 3 // 4, f"verify peaked at {rss} KiB for a {size >> 20} MiB output"


def _stderr_on_a_terminal(cli: Cli, *args: str) -> tuple[int, bytes]:
    import pty
    import select

    master, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(VC_RUNID), *args], cwd=cli.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal,
        env={**os.environ, "RUNID_HOME": str(cli.home), "TERM": "xterm"},
    )
    os.close(terminal)
    seen = b""
    try:
        while select.select([master], [], [], 120)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    return process.wait(timeout=120), seen


def test_a_progress_bar_is_shown_on_a_terminal_and_only_there(cli: Cli) -> None:
    with open(cli.cwd / "mid.bin", "wb") as mid:
        mid.truncate(64 * 1024 * 1024)
    cli.declare()
    code, seen = _stderr_on_a_terminal(cli, "bind", "decl.json", "--output", "mid.bin", "--out", "binding.json")
    assert code == 0 and b"hashing" in seen and b"67.1 MB" in seen
    code, seen = _stderr_on_a_terminal(
        cli, "verify", "decl.json", "binding.json", "--output", "mid.bin", "--trusted-issuer", cli.did
    )
    assert code == 0 and b"hashing" in seen
    piped = cli("verify", "decl.json", "binding.json", "--output", "mid.bin", "--trusted-issuer", cli.did, process=True)
    assert piped.code == 0 and "hashing" not in piped.err


# --- 5. the HTML report says what the terminal says -------------------------------------------


def test_the_html_run_card_says_the_included_output_does_not_match(cli: Cli) -> None:
    run_id = cli.declare()
    assert cli("bind", "decl.json", "--output", "out.txt", "--out", "binding.json").code == 0
    (cli.cwd / "other.txt").write_text("Your balance is 1000 EUR.\n")
    assert cli("bundle", run_id, "--output", f"{run_id}=other.txt", "--out", "a.zip").code == 0
    result = cli("verify-bundle", "a.zip", "--html", "report.html", "--trusted-issuer", cli.did)
    assert result.code == 1
    assert "output: DOES NOT MATCH the bound digest [RUNID_OUTPUT_MISMATCH]" in result.out
    html = (cli.cwd / "report.html").read_text()
    assert "not included" not in html
    assert "<dt>output</dt><dd>DOES NOT MATCH the bound digest [RUNID_OUTPUT_MISMATCH]</dd>" in html


# --- 6. messages -----------------------------------------------------------------------------------


@pytest.fixture
def bound(cli: Cli) -> Cli:
    cli.declare()
    assert cli("bind", "decl.json", "--output", "out.txt", "--out", "binding.json").code == 0
    (cli.cwd / "notes.json").write_text("these are notes, not JSON\n")
    return cli


def test_a_file_that_is_not_json_is_named(bound: Cli) -> None:
    result = bound("verify", "decl.json", "notes.json", "--trusted-issuer", bound.did)
    assert result.code == 1 and result.err.startswith("RUNID_INPUT_NOT_JSON: notes.json: ")
    result = bound("verify", "decl.json", "binding.json", "--status-list", "notes.json", "--trusted-issuer", bound.did)
    assert result.code == 1 and result.err.startswith("RUNID_INPUT_NOT_JSON: notes.json: ")
    result = bound("verify", "decl.json", "binding.json", "--disclose", "notes.json", "--trusted-issuer", bound.did)
    assert result.code == 1 and result.err.startswith("RUNID_INPUT_NOT_JSON: disclosure file notes.json: ")


def test_an_edited_binding_digest_is_an_output_mismatch_not_a_manifest_error(bound: Cli) -> None:
    binding = json.loads((bound.cwd / "binding.json").read_text())
    binding["credentialSubject"]["output"]["digestMultibase"] = "uXXXX"
    (bound.cwd / "edited.json").write_text(json.dumps(binding))
    result = bound("verify", "decl.json", "edited.json", "--output", "out.txt", "--trusted-issuer", bound.did)
    assert result.code == 1
    assert "FAIL binding.proof.signature [RUNID_PROOF_INVALID]" in result.out
    assert "RUNID_MANIFEST_INVALID" not in result.out  # no manifest is involved


def test_a_file_that_is_not_a_zip_is_not_called_truncated(bound: Cli) -> None:
    result = bound("verify-bundle", "notes.json", "--trusted-issuer", bound.did)
    assert result.code == 1
    assert "RUNID_BUNDLE_INVALID" in result.out and "not a zip archive" in result.out
    assert "TRUNCATED" not in result.out


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "localhost:8080", "issuer.example"])
def test_an_issuer_url_without_a_scheme_is_told_so(cli: Cli, url: str) -> None:
    result = cli("declare", "manifest.yaml", "--issuer", url, "--token", "t")
    assert result.code == 2 and "needs a scheme" in result.err and "use https" not in result.err
    assert cli.runs() == []


def test_serve_on_a_busy_port_is_one_coded_line_and_creates_nothing(cli: Cli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("serve", "--home", "fresh-home", "--port", str(port), process=True)
    assert result.code == 1
    expected = (
        f"RUNID_CANNOT_LISTEN: cannot listen on 127.0.0.1:{port}: another process is listening there "
        "(stop it, or choose another --port)"
    )
    assert result.err.strip().splitlines() == [expected]
    assert not (cli.cwd / "fresh-home").exists()


def test_an_ecdsa_request_on_an_ed25519_home_says_how_to_get_a_p256_key(cli: Cli) -> None:
    result = cli("declare", "manifest.yaml", "--format", "ecdsa")
    assert result.code == 1 and result.err.startswith("RUNID_KEY_INVALID: ")
    assert "a P-256 key, not Ed25519" in result.err and "--key-type p256" in result.err
    assert "an P-256" not in result.err


def test_a_home_created_implicitly_is_announced_on_stderr(cli: Cli) -> None:
    result = cli("demo", "--home", "typo-home", "--out-dir", "demo")
    assert result.code == 0, result.err
    assert "typo-home does not exist: creating a new vc-runid home" in result.err
    again = cli("demo", "--home", "typo-home", "--out-dir", "demo2")
    assert "creating a new" not in again.err


def test_looking_at_a_mistyped_home_creates_nothing_and_says_so(cli: Cli) -> None:
    listed = cli("runs", "list", "--home", "typo-home")
    assert listed.code == 0 and listed.out == "" and "no vc-runid home at typo-home" in listed.err
    shown = cli("runs", "show", "urn:uuid:x", "--home", "typo-home")
    assert shown.code == 1 and shown.err.startswith("RUNID_RUN_NOT_FOUND: no vc-runid home at typo-home")
    assert not (cli.cwd / "typo-home").exists()


def test_a_token_database_created_in_a_new_home_is_announced(cli: Cli) -> None:
    first = cli("tokens", "create", "agent", "--home", "issuer-home")
    assert first.code == 0 and "issuer-home does not exist: creating a new vc-runid home" in first.err
    again = cli("tokens", "create", "ops", "--home", "issuer-home")
    assert again.code == 0 and "creating" not in again.err


# --- 7. help text --------------------------------------------------------------------------------


def _commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    found = [(path, group)]
    for name, sub in getattr(group, "commands", {}).items():
        found += _commands(sub, (*path, name))
    return found


def test_every_option_and_argument_is_described() -> None:
    missing = [
        (" ".join(path), param.name)
        for path, cmd in _commands(command())
        for param in cmd.params  # type: ignore[attr-defined]
        if not (getattr(param, "help", None) or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize("args", [["--help"], ["verify", "--help"], ["run", "--help"], ["bind", "--help"], ["issue", "--help"], ["log", "audit", "--help"]])
def test_help_shows_no_python_types_and_no_value_for_a_flag(cli: Cli, args: list[str]) -> None:
    result = cli(*args, process=True, env={"COLUMNS": "200"})
    assert result.code == 0
    for leak in ("<bool>", "<str>", "<path>", "list[", "<int>"):
        assert leak not in result.out, (leak, result.out)
    if args == ["run", "--help"]:
        assert "Usage: vc-runid run [OPTIONS] -- COMMAND [ARGS]..." in result.out
    if args == ["verify", "--help"]:
        assert re.search(r"--json\s+Print the report as JSON", result.out)
    if args == ["issue", "--help"]:
        assert re.search(r"--out\s+PATH\s+Write the signed credential here", result.out)


def test_version(cli: Cli) -> None:
    from importlib.metadata import version

    result = cli("--version", process=True)
    assert (result.code, result.out) == (0, f"vc-runid {version('vc-runid')}\n")


# --- 8. vc-runid on the PATH ------------------------------------------------------------------------


def test_the_demo_prints_a_command_that_works_without_an_activated_venv(cli: Cli) -> None:
    bare = {"PATH": "/usr/bin:/bin"}
    result = cli("demo", "--out-dir", "demo", process=True, env=bare)
    assert result.code == 0, result.err
    recheck = next(line for line in result.out.splitlines() if line.startswith("re-check them yourself:"))
    shown = recheck.split(":", 1)[1].split()
    assert shown[0] == str(VC_RUNID) and "source .venv/bin/activate" in result.out
    again = subprocess.run(shown, cwd=cli.cwd, env={**os.environ, **bare}, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0 and ": VALID (bound)" in again.stdout

    on_path = cli("demo", "--out-dir", "demo2", process=True, env={"PATH": f"{VC_RUNID.parent}:/usr/bin:/bin"})
    assert "re-check them yourself:  vc-runid verify " in on_path.out
    assert "not on your PATH" not in on_path.out


def test_the_readme_and_scripts_say_how_to_get_vc_runid_on_the_path() -> None:
    readme = (ROOT / "README.md").read_text()
    two_commands = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    assert "source .venv/bin/activate" in two_commands and ".venv/bin/vc-runid" in two_commands
    assert "source .venv/bin/activate" in (ROOT / "scripts" / "demo").read_text()


# --- 9. scripts/test says what it installs ------------------------------------------------------------

_INSTALLS = re.compile(r"pip install|npm ci|apt-get install|--install-only|-m venv")


def test_every_install_step_of_the_test_script_prints_one_line_first() -> None:
    for name in ("test", "demo"):
        lines = (ROOT / "scripts" / name).read_text().splitlines()
        for i, line in enumerate(lines):
            if _INSTALLS.search(line) and not line.lstrip().startswith("#"):
                before = "\n".join(lines[max(0, i - 4):i])
                assert re.search(r'(step|echo) "\[?install', before) or re.search(r"step \"", before), (
                    f"scripts/{name}:{i + 1} installs without saying so first: {line.strip()}"
                )
    assert 'step() { echo "[install] $*"; }' in (ROOT / "scripts" / "test").read_text()


def test_the_step_lines_are_what_the_script_prints() -> None:
    script = (ROOT / "scripts" / "test").read_text()
    definition = next(line for line in script.splitlines() if line.startswith("step()"))
    done = subprocess.run(["bash", "-c", f'{definition}\nstep "npm packages for interop/js"'], capture_output=True, text=True, check=True)
    assert done.stdout == "[install] npm packages for interop/js\n"


# --- 10. the quickstart (tests/test_quickstart.py runs it) ------------------------------------------


def test_the_quickstart_no_longer_says_bundle_only_warns() -> None:
    text = (ROOT / "docs" / "quickstart.md").read_text()
    assert "does not warn" not in text
    assert "run_id,verdict,check,code,message,codes,files,duplicates,warnings" in text


def test_a_bundle_is_a_zip(bound: Cli) -> None:
    """(Guard for item 6: the not-a-zip rule must not catch real bundles.)"""
    run_id = bound.runs()[0]["runId"]
    assert bound("bundle", run_id, "--out", "b.zip").code == 0
    assert zipfile.is_zipfile(bound.cwd / "b.zip")
    assert bound("verify-bundle", "b.zip", "--trusted-issuer", bound.did).code == 0
