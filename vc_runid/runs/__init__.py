"""The run domain: what a run is made of, its declaration before and binding after, their
verification, and running code under a declaration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .binding import Observed, OutputDigest, Usage, bind, output_digest, output_digest_of_file
    from .chat_request import composition_from_chat_request
    from .composition import (
        CompositionBuilder,
        Disclosure,
        Disclosures,
        Executor,
        RunComposition,
        Runtime,
        Software,
        TraceContext,
    )
    from .declaration import declare
    from .digests import hash_weights, verify_weights
    from .manifest import compose_from_manifest, load_manifest
    from .presentations import RunPresentationReport, present_runs, verify_presentation
    from .runner import Run, run, run_callable
    from .signer import Bound, Declared, LocalSigner, RunSigner
    from .verify import Verdict, verdict_of, verify_run
    from .weights_oms import oms_weights, verify_oms_weights
    from .workflow import RunRecorder

# Loaded on first use (vc_runid/_internal/lazy.py): a command pays only for what it uses.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".composition": (
        "CompositionBuilder", "Disclosure", "Disclosures", "Executor", "RunComposition", "Runtime",
        "Software", "TraceContext",
    ),
    ".declaration": ("declare",),
    ".binding": (
        "Observed", "OutputDigest", "Usage", "bind", "output_digest", "output_digest_of_file",
    ),
    ".verify": ("Verdict", "verdict_of", "verify_run"),
    ".runner": ("Run", "run", "run_callable"),
    ".signer": ("Bound", "Declared", "LocalSigner", "RunSigner"),
    ".workflow": ("RunRecorder",),
    ".manifest": ("compose_from_manifest", "load_manifest"),
    ".presentations": ("RunPresentationReport", "present_runs", "verify_presentation"),
    ".chat_request": ("composition_from_chat_request",),
    ".digests": ("hash_weights", "verify_weights"),
    ".weights_oms": ("oms_weights", "verify_oms_weights"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Bound",
    "CompositionBuilder",
    "Declared",
    "Disclosure",
    "Disclosures",
    "Executor",
    "LocalSigner",
    "Observed",
    "OutputDigest",
    "Run",
    "RunComposition",
    "RunPresentationReport",
    "RunRecorder",
    "RunSigner",
    "Runtime",
    "Software",
    "TraceContext",
    "Usage",
    "Verdict",
    "bind",
    "compose_from_manifest",
    "composition_from_chat_request",
    "declare",
    "hash_weights",
    "load_manifest",
    "oms_weights",
    "output_digest",
    "output_digest_of_file",
    "present_runs",
    "run",
    "run_callable",
    "verdict_of",
    "verify_oms_weights",
    "verify_presentation",
    "verify_run",
    "verify_weights",
]
