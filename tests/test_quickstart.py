"""docs/quickstart.md, run as a newcomer would: every command block, in order, in one shell.

Each ``sh`` block runs in one bash session (so ``cd`` and variables carry on, and ``serve &``
keeps running), in a fresh temporary directory with nothing but the venv on the ``PATH``. Where
the page shows the output (a ``text`` block right after the commands), the output must be the
same, line for line, up to what differs on every run (ids, keys, times, salts, temporary paths).
A ``python`` block is run with the venv's Python and compared the same way; one whose first line
is ``# file: NAME`` is saved as NAME for a later block instead. A block preceded by
``<!-- quickstart-test: skip … -->`` is not run (it installs from the network).

No network: the issuer service runs on a free port of 127.0.0.1, and everything else is local.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "docs" / "quickstart.md"
TIMEOUT = 420  # seconds for the whole page; a hang fails the test, never the suite

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)
_SKIP = re.compile(r"<!--\s*quickstart-test:\s*skip\b[^>]*-->\s*$")


@dataclass
class Block:
    index: int
    language: str  # "sh" or "python"
    code: str
    expected: str | None  # the text block shown right after it, if any
    line: int  # where it starts in the page, for the failure message
    skipped: bool


def blocks(markdown: str) -> list[Block]:
    fences = list(_FENCE.finditer(markdown))
    result: list[Block] = []
    for i, fence in enumerate(fences):
        language, code = fence.group(1), fence.group(2)
        if language not in ("sh", "python"):
            continue
        following = fences[i + 1] if i + 1 < len(fences) else None
        expected = None
        if following is not None and following.group(1) == "text" and not markdown[fence.end():following.start()].strip():
            expected = following.group(2)
        before = markdown[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        result.append(Block(
            index=len(result), language=language, code=code, expected=expected,
            line=markdown.count("\n", 0, fence.start()) + 1, skipped=bool(_SKIP.search(before)),
        ))
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_WAIT_FOR_PORT = (
    'python3 -c "import socket,sys,time\n'
    "for _ in range(300):\n"
    "    try: socket.create_connection(('127.0.0.1', {port}), 0.2).close(); sys.exit(0)\n"
    "    except OSError: time.sleep(0.1)\n"
    'sys.exit(1)"\n'
)


def script(page: list[Block], port: int) -> str:
    """One bash script: each block between markers, with its exit status."""
    lines = ["exec 2>&1", "trap 'kill $(jobs -p) 2>/dev/null' EXIT"]
    for block in page:
        if block.skipped:
            continue
        lines.append(f"echo '@@BEGIN {block.index}@@'")
        if block.language == "sh":
            code = block.code.replace("8080", str(port))
            lines.append(code.rstrip("\n"))
            lines.append("__rc=$?")
            if re.search(r"&\s*$", code, re.MULTILINE):  # a server started in the background: wait for it
                lines.append(_WAIT_FOR_PORT.format(port=port).rstrip("\n") + " || __rc=99")
        else:
            first = block.code.split("\n", 1)[0]
            named = re.fullmatch(r"# file: (\S+)", first)
            target = named.group(1) if named else f".quickstart-{block.index}.py"
            lines.append(f"cat > {target} <<'QUICKSTART_PY'\n{block.code}QUICKSTART_PY")
            lines.append("__rc=0" if named else f"python3 {target}; __rc=$?")
        lines.append(f"echo \"@@END {block.index} $__rc@@\"")
    return "\n".join(lines) + "\n"


_NORMALIZE = [
    (re.compile(r"urn:uuid:[0-9a-f-]{36}"), "urn:uuid:UUID"),
    (re.compile(r"\bz[1-9A-HJ-NP-Za-km-z]{40,}"), "zKEY"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), "TIME"),
    (re.compile(r'"u[A-Za-z0-9_-]{20,}"'), '"SALT"'),
    # the demo's and init's absolute paths (the page shows the author's)
    (re.compile(r"(?<![\w.])/[\w.@+-]+(/[\w.@+-]+)*"), "/PATH"),
    (re.compile(r"\b\d+\.\d+ ?[kKMG]?B/s\b"), "RATE"),
    # vc-runid audit's timing line: its speed and the machine's load differ on every run
    (re.compile(r"in \d+\.\d\d s \([\d,]+ runs/s\); (load average \d+\.\d\d on )?\d+ CPUs"), "in SECONDS (RATE); LOAD"),
]


def normalize(text: str, port: int) -> list[str]:
    text = text.replace(str(port), "8080")
    for pattern, replacement in _NORMALIZE:
        text = pattern.sub(replacement, text)
    return [line.rstrip() for line in text.strip("\n").split("\n")] if text.strip() else []


def test_every_quickstart_block_runs_and_prints_what_the_page_shows(tmp_path: Path) -> None:
    page = blocks(QUICKSTART.read_text())
    assert sum(not b.skipped for b in page) >= 20, "the quickstart lost its command blocks?"
    port = _free_port()
    (tmp_path / "script.sh").write_text(script(page, port))
    bin_dir = Path(sys.executable).parent
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # stdout and stderr in the order they were written
        "TERM": "dumb",
        "COLUMNS": "200",
    }
    process = subprocess.Popen(
        ["bash", str(tmp_path / "script.sh")], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        out, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        pytest.fail(f"the quickstart did not finish in {TIMEOUT} s; output so far:\n{out.decode()[-4000:]}")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # a server left behind by a failed block
        except ProcessLookupError:
            pass
    output = out.decode()
    problems = []
    for block in page:
        if block.skipped:
            continue
        found = re.search(rf"@@BEGIN {block.index}@@\n(.*?)@@END {block.index} (\d+)@@", output, re.DOTALL)
        if found is None:
            problems.append(f"docs/quickstart.md:{block.line}: the block did not finish")
            continue
        shown, rc = found.group(1), int(found.group(2))
        if rc != 0:
            problems.append(f"docs/quickstart.md:{block.line}: exit {rc}\n{block.code}---\n{shown}")
        if block.expected is not None and normalize(shown, port) != normalize(block.expected, port):
            problems.append(
                f"docs/quickstart.md:{block.line}: the output differs from the page\n{block.code}"
                f"--- page\n{block.expected}--- actual\n{shown}"
            )
    assert not problems, "\n\n".join(problems)


def test_the_block_parser_pairs_commands_with_the_output_shown_after_them() -> None:
    page = blocks(
        "x\n```sh\necho hi\n```\n\n```text\nhi\n```\n<!-- quickstart-test: skip (network) -->\n"
        "```sh\nbash scripts/demo\n```\n```python\nprint(1)\n```\nprose\n```text\n1\n```\n"
    )
    assert [(b.language, b.expected, b.skipped) for b in page] == [
        ("sh", "hi\n", False), ("sh", None, True), ("python", None, False),
    ]
