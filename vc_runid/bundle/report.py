"""Reading a bundle report: a colour terminal summary (rich) and a static HTML page.

Both are pure functions of a ``BundleReport``. The HTML page is self-contained: inline CSS, no
script, no image, no link to anything outside it (its Content-Security-Policy forbids loading
anything), and every value from the bundle is escaped — a bundle is untrusted input, and a run id
or an error message could carry markup.
"""

from __future__ import annotations

from html import escape
from typing import Any

from rich.console import Console
from rich.text import Text

from ..vc.verification import CheckResult
from .archive import VERDICTS, BundleReport, RunEntry

_STYLE = {
    "valid": "bold green",
    "invalid": "bold red",
    "unbound": "bold yellow",
    "revoked": "bold magenta",
    "drift": "bold dark_orange",
}

#: One sentence per verdict, shown in both renderings (docs/auditors.md says the same).
VERDICT_MEANING = {
    "valid": "declared before it ran, bound to its output, every check passed",
    "invalid": "a check failed: see the failures",
    "unbound": "declared, but no output binding (the run did not finish, or its binding is withheld)",
    "revoked": "the issuer revoked (or suspended) a credential of this run",
    "drift": "signatures hold, but what ran differs from what was declared",
}


def _composition(run: RunEntry) -> str:
    c = run.composition
    if c is None:
        return "composition unreadable"
    model = c.model_id or "?"
    if c.provider:
        model += f" ({c.provider})"
    parts = [
        f"model {model}",
        _count(c.instructions, "instruction"),
        _count(c.documents, "document"),
        _count(c.tools, "tool"),
    ]
    return " · ".join(parts)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _timeline_text(run: RunEntry) -> str:
    t = run.timeline
    steps = [("declared", t.declared), ("started", t.started), ("completed", t.completed), ("bound", t.bound)]
    return " → ".join(f"{name} {value or '—'}" for name, value in steps)


def _summary(report: BundleReport) -> str:
    counts = report.summary
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS)


# --- terminal --------------------------------------------------------------------------------


def render_terminal(report: BundleReport, console: Console) -> None:
    """One line per run with a coloured verdict, details of failures, then a summary line.

    Values are added as ``Text``, never as markup, so nothing in the bundle can style the output.
    """
    head = Text.assemble(("audit bundle ", "bold"), report.bundle)
    if report.created_at:
        head.append(f"  created {report.created_at}")
    head.append(f"  verified as of {report.verified_at}")
    console.print(head)
    console.print(Text(f"trust policy: {report.policy or 'none: no run can be valid (add --trusted-issuer DID or --trust FILE)'}",
                       style="bold red" if not report.policy or report.policy.startswith("UNSAFE") else ""))
    bundle_failures = report.failures
    if bundle_failures:
        console.print(Text("bundle: INVALID", style="bold red"))
        for check in bundle_failures:
            console.print(_failure_line(check))
    else:
        console.print(Text.assemble(("bundle: ", ""), ("ok", "green"), f" ({len(report.checks)} checks passed)"))
    for issuer in report.issuers:
        console.print(Text(f"  issuer {issuer.did}: {issuer.key_source}", style="dim"))
    for run in report.runs:
        line = Text()
        line.append(f"{run.verdict.upper():8}", style=_STYLE[run.verdict])
        line.append(f" {run.run_id}  ")
        line.append(_composition(run), style="cyan")
        console.print(line)
        details = [
            f"timeline: {_timeline_text(run)}",
            f"log: {run.log_inclusion.state}"
            + (f" ({', '.join(f'{k} {v}' for k, v in run.log_inclusion.credentials.items())})"
               if run.log_inclusion.state == "partial" else "")
            + f"   status: {run.status.state}"
            + (f" (as of {run.status.as_of})" if run.status.as_of else ""),
        ]
        if run.disclosures:
            details.append(
                "disclosed: " + ", ".join(f"{d.path} {'matched' if d.matched else 'MISMATCH'}" for d in run.disclosures)
            )
        if _output_state(run) != OUTPUT_NOT_INCLUDED:
            details.append(f"output: {_output_state(run)}")
        for detail in details:
            console.print(Text(f"         {detail}", style="dim"))
        for check in run.report.failures:
            console.print(_failure_line(check, indent=9))
        for warning in run.report.warnings:
            console.print(Text(f"         warn {warning}", style="yellow"))
    if not report.runs and not bundle_failures:
        console.print(Text("no run in the bundle", style="bold red"))
    verdict = Text("ALL VALID" if report.valid else "NOT ALL VALID", style="bold green" if report.valid else "bold red")
    console.print(Text.assemble(verdict, f" — {len(report.runs)} run(s): {_summary(report)}"))


def _failure_line(check: CheckResult, indent: int = 2) -> Text:
    line = Text(" " * indent)
    line.append("✗ ", style="red")
    line.append(check.name, style="bold")
    if check.code:
        line.append(f" [{check.code}]", style="red")
    line.append(f" {check.message}")
    return line


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#5b6475;font-size:13px;word-break:break-all}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 18px;margin:16px 0}
.summary{display:flex;gap:10px;flex-wrap:wrap;margin-top:12px}
.pill{border-radius:999px;padding:3px 12px;font-weight:600;font-size:13px;border:1px solid transparent}
.v-valid{background:#e3f6e8;color:#146c2e;border-color:#9dd9ae}
.v-invalid{background:#fde8e8;color:#a61b1b;border-color:#f2a8a8}
.v-unbound{background:#fff5d6;color:#7a5a00;border-color:#f0d27a}
.v-revoked{background:#f6e6fb;color:#7b1f94;border-color:#d9a9e8}
.v-drift{background:#ffeedd;color:#9a4a00;border-color:#f3c08f}
.runhead{display:flex;justify-content:space-between;align-items:center;gap:12px;flex-wrap:wrap}
.runid{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:14px;word-break:break-all}
ol.timeline{list-style:none;display:flex;padding:0;margin:12px 0;gap:0}
ol.timeline li{flex:1;position:relative;padding:26px 8px 0;text-align:center;font-size:13px}
ol.timeline li::before{content:"";position:absolute;top:8px;left:50%;width:14px;height:14px;margin-left:-7px;border-radius:50%;background:#2f6fde}
ol.timeline li::after{content:"";position:absolute;top:14px;left:calc(50% + 9px);right:calc(-50% + 9px);height:2px;background:#b8c6e6}
ol.timeline li:last-child::after{display:none}
ol.timeline li.missing::before{background:#c5cad3}
ol.timeline .when{display:block;color:#5b6475;font-family:ui-monospace,Menlo,monospace;font-size:12px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:8px 0;font-size:14px}
dl.facts dt{color:#5b6475}dl.facts dd{margin:0;word-break:break-word}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{background:#f0f2f6;font-weight:600}
td.name,td.code{font-family:ui-monospace,Menlo,monospace;white-space:nowrap}
td.msg{word-break:break-word}
tr.fail td{background:#fff4f4}
.ok{color:#146c2e;font-weight:600}.bad{color:#a61b1b;font-weight:600}
.warn{color:#7a5a00}
details summary{cursor:pointer;color:#2f4f8f;margin:6px 0}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _checks_table(checks: list[CheckResult]) -> str:
    rows = []
    for check in checks:
        result = '<span class="ok">pass</span>' if check.passed else '<span class="bad">FAIL</span>'
        rows.append(
            f'<tr class="{"pass" if check.passed else "fail"}"><td class="name">{_e(check.name)}</td>'
            f"<td>{result}</td><td class=\"code\">{_e(check.code or '')}</td><td class=\"msg\">{_e(check.message)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>check</th><th>result</th><th>code</th><th>detail</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _timeline_html(run: RunEntry) -> str:
    t = run.timeline
    items = []
    for name, value in (("declared", t.declared), ("started", t.started), ("completed", t.completed), ("bound", t.bound)):
        css = "" if value else ' class="missing"'
        items.append(f"<li{css}>{_e(name)}<span class=\"when\">{_e(value or '—')}</span></li>")
    return f'<ol class="timeline" aria-label="timeline">{"".join(items)}</ol>'


OUTPUT_NOT_INCLUDED = "not included"


def _output_state(run: RunEntry) -> str:
    """What the run's ``output`` check found, in the same words for the terminal and the HTML card."""
    check = next((c for c in run.report.checks if c.name == "output"), None)
    if check is None:
        return OUTPUT_NOT_INCLUDED
    if check.passed:
        return "matches the bound digest"
    return f"DOES NOT MATCH the bound digest [{check.code}]"


def _run_html(run: RunEntry) -> str:
    c = run.composition
    facts = [("issuer", run.issuer or "—")]
    if c is not None:
        model = [c.model_id or "?", f"({c.provider})" if c.provider else "", f"rev {c.revision}" if c.revision else ""]
        parts = [
            _count(c.instructions, "instruction"),
            _count(c.documents, "retrieved document"),
            _count(c.tools, "tool"),
            "an input" if c.has_input else "no input",
        ]
        facts += [("model", " ".join(x for x in model if x)), ("composition", ", ".join(parts))]
    facts += [
        ("log inclusion", run.log_inclusion.state + ("" if not run.log_inclusion.entries else " — " + "; ".join(run.log_inclusion.entries))),
        ("status", run.status.state + (f" (as of {run.status.as_of})" if run.status.as_of else "") + (f" — {run.status.message}" if run.status.message else "")),
        ("output", _output_state(run)),
    ]
    if run.disclosures:
        facts.append(("disclosed", ", ".join(f"{d.path}: {'matched' if d.matched else 'MISMATCH'}" for d in run.disclosures)))
    else:
        facts.append(("disclosed", "nothing"))
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    warnings = "".join(f'<p class="warn">warning: {_e(w)}</p>' for w in run.report.warnings)
    failures = run.report.failures
    failed = (
        "<h3>Failures</h3>" + _checks_table(failures) if failures else ""
    )
    return (
        f'<section class="card run" id="run-{_e(run.run_id)}">'
        f'<div class="runhead"><h2 class="runid">{_e(run.run_id)}</h2>'
        f'<span class="pill v-{_e(run.verdict)}" title="{_e(VERDICT_MEANING[run.verdict])}">{_e(run.verdict.upper())}</span></div>'
        f'<p class="meta">{_e(VERDICT_MEANING[run.verdict])}</p>'
        f"{_timeline_html(run)}<dl class=\"facts\">{dl}</dl>{warnings}{failed}"
        f"<details{' open' if failures else ''}><summary>all {len(run.report.checks)} checks</summary>"
        f"{_checks_table(run.report.checks)}</details></section>"
    )


def render_html(report: BundleReport) -> str:
    """A static, self-contained HTML page: no script, no external asset, every value escaped."""
    counts = report.summary
    pills = "".join(
        f'<span class="pill v-{v}">{counts[v]} {v}</span>' for v in VERDICTS
    )
    overall = "ALL VALID" if report.valid else "NOT ALL VALID"
    issuers = "".join(f"<dt>{_e(i.did)}</dt><dd>{_e(i.key_source)}</dd>" for i in report.issuers)
    bundle_state = '<span class="ok">ok</span>' if report.bundle_valid else '<span class="bad">INVALID</span>'
    runs = "".join(_run_html(run) for run in report.runs) or '<section class="card"><p class="bad">No run was verified.</p></section>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>vc-runid audit report — {_e(overall)}</title><style>{_CSS}</style></head><body><main>"
        f'<header class="card"><h1>Audit report: <span class="{"ok" if report.valid else "bad"}">{_e(overall)}</span></h1>'
        f'<p class="meta">bundle {_e(report.bundle)} · created {_e(report.created_at or "—")} · verified offline as of {_e(report.verified_at)}</p>'
        f'<p class="meta">trust policy: {_e(report.policy or "none: no run can be valid")}</p>'
        f'<div class="summary">{pills}</div></header>'
        f'<section class="card"><h2>Bundle: {bundle_state}</h2>'
        + (f'<h3>Issuers and where their keys came from</h3><dl class="facts">{issuers}</dl>' if issuers else "")
        + f"<h3>Bundle checks</h3>{_checks_table(report.checks)}</section>"
        f"{runs}"
        '<footer class="meta">Generated by vc-runid verify-bundle. Verified without network access; '
        "see docs/auditors.md for what each verdict and check means.</footer>"
        "</main></body></html>\n"
    )


__all__ = ["VERDICT_MEANING", "render_html", "render_terminal"]
