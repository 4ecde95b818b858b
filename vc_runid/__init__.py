"""vc-runid: a verifiable identity for every AI run.

The verbs: ``declare`` a run before it starts, ``bind`` its output after, ``verify`` the pair
offline — or let ``run`` do the first two around your code::

    import vc_runid as runid

    issuer = runid.Issuer.generate()
    composition = runid.CompositionBuilder().model("gpt-4o", provider="openai").input("hi").build()
    with runid.run(composition, issuer=issuer) as run:
        run.record_output(my_model("hi"), observed={"modelId": "gpt-4o"})
    report = runid.verify_run(run.declaration, run.binding, policy=runid.TrustPolicy.trusting(issuer.did))
    assert report.valid
"""

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._internal.contexts import DocumentLoader
    from .errors import ErrorCode, RunIdError
    from .runs.binding import Observed, OutputDigest, Usage, bind, output_digest
    from .runs.chat_request import composition_from_chat_request
    from .runs.composition import CompositionBuilder, Disclosure, Disclosures, RunComposition
    from .runs.declaration import declare
    from .runs.manifest import compose_from_manifest
    from .runs.presentations import present_runs, verify_presentation
    from .runs.runner import Run, run, run_callable
    from .runs.verify import verify_run
    from .store.home import init_home, load_issuer
    from .store.runs import RunStore
    from .vc.credentials import Issuer, ProofFormat, RunProfile, issue_credential
    from .vc.dids import DidResolver
    from .vc.keys import KeyPair, KeyType
    from .vc.policy import TrustPolicy
    from .vc.presentations import PresentationReport, present
    from .vc.verification import CheckResult, VerificationReport, Verifier, verify_credential

# The public names are loaded on first use (PEP 562), so that `import vc_runid.<module>` (every
# CLI command) pays only for what that command imports, not for the whole library.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Observed", "OutputDigest", "Usage", "bind", "output_digest"), "runs.binding"),
    "composition_from_chat_request": "runs.chat_request",
    **dict.fromkeys(("CompositionBuilder", "Disclosure", "Disclosures", "RunComposition"), "runs.composition"),
    "DocumentLoader": "_internal.contexts",
    **dict.fromkeys(
        ("Issuer", "ProofFormat", "RunProfile", "issue_credential"), "vc.credentials"
    ),
    "declare": "runs.declaration",
    "DidResolver": "vc.dids",
    **dict.fromkeys(("ErrorCode", "RunIdError"), "errors"),
    **dict.fromkeys(("KeyPair", "KeyType"), "vc.keys"),
    "compose_from_manifest": "runs.manifest",
    "TrustPolicy": "vc.policy",
    **dict.fromkeys(("PresentationReport", "present"), "vc.presentations"),
    **dict.fromkeys(("present_runs", "verify_presentation"), "runs.presentations"),
    "verify_run": "runs.verify",
    **dict.fromkeys(("Run", "run", "run_callable"), "runs.runner"),
    "RunStore": "store.runs",
    **dict.fromkeys(("init_home", "load_issuer"), "store.home"),
    **dict.fromkeys(("CheckResult", "VerificationReport", "Verifier", "verify_credential"), "vc.verification"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _import_pyld_offline() -> None:
    """Import pyld with its network document loader left out.

    pyld picks a default document loader when it is imported, importing requests (~80 ms) for it.
    vc-runid always passes its own offline loader, so pyld's default is never used; without
    requests pyld falls back to a loader that refuses every URL, which is the fail-closed default
    anyway. Only pyld's own import sees requests missing: the entry is removed right after.
    """
    if "pyld" in sys.modules:
        return
    blocked = [name for name in ("requests", "aiohttp") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        importlib.import_module("pyld")
    except ImportError:
        pass  # the real import, where pyld is used, says what is missing
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


_import_pyld_offline()

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "CompositionBuilder",
    "Disclosure",
    "Disclosures",
    "DidResolver",
    "DocumentLoader",
    "ErrorCode",
    "Issuer",
    "KeyPair",
    "KeyType",
    "Observed",
    "OutputDigest",
    "PresentationReport",
    "ProofFormat",
    "RunProfile",
    "Run",
    "RunComposition",
    "TrustPolicy",
    "RunIdError",
    "RunStore",
    "Usage",
    "VerificationReport",
    "Verifier",
    "bind",
    "compose_from_manifest",
    "composition_from_chat_request",
    "declare",
    "init_home",
    "issue_credential",
    "load_issuer",
    "output_digest",
    "present",
    "present_runs",
    "run",
    "run_callable",
    "verify_credential",
    "verify_presentation",
    "verify_run",
]
