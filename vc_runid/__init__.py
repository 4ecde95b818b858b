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
from typing import TYPE_CHECKING

from ._internal.lazy import lazy_exports

if TYPE_CHECKING:
    from .errors import ErrorCode, RunIdError
    from .runs.binding import bind
    from .runs.composition import CompositionBuilder, Disclosures, RunComposition
    from .runs.declaration import declare
    from .runs.presentations import verify_presentation
    from .runs.runner import Run, run
    from .runs.verify import verify_run
    from .store.home import init_home, load_issuer
    from .store.runs import RunStore
    from .vc.credentials import Issuer, ProofFormat, issue_credential
    from .vc.keys import KeyType
    from .vc.policy import TrustPolicy
    from .vc.presentations import PresentationReport, present
    from .vc.verification import VerificationReport, Verifier, verify_credential

# The root is the handful of verbs and types a user learns in a minute; everything else is in the
# subpackage it belongs to (``vc_runid.vc``, ``vc_runid.runs``, ``vc_runid.store``, ...). The names
# are loaded on first use (PEP 562), so that ``import vc_runid.<module>`` (every CLI command) pays
# only for what that command imports, not for the whole library.
_EXPORTS: dict[str, tuple[str, ...]] = {
    ".runs.declaration": ("declare",),
    ".runs.binding": ("bind",),
    ".runs.verify": ("verify_run",),
    ".runs.runner": ("Run", "run"),
    ".runs.composition": ("CompositionBuilder", "Disclosures", "RunComposition"),
    ".runs.presentations": ("verify_presentation",),
    ".store.runs": ("RunStore",),
    ".store.home": ("init_home", "load_issuer"),
    ".vc.credentials": ("Issuer", "ProofFormat", "issue_credential"),
    ".vc.keys": ("KeyType",),
    ".vc.policy": ("TrustPolicy",),
    ".vc.presentations": ("PresentationReport", "present"),
    ".vc.verification": ("VerificationReport", "Verifier", "verify_credential"),
    ".errors": ("ErrorCode", "RunIdError"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


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
    "CompositionBuilder",
    "Disclosures",
    "ErrorCode",
    # the types they take and return
    "Issuer",
    "KeyType",
    "PresentationReport",
    "ProofFormat",
    "Run",
    "RunComposition",
    "RunIdError",
    "RunStore",
    "TrustPolicy",
    "VerificationReport",
    "Verifier",
    "bind",
    # the verbs
    "declare",
    "init_home",
    "issue_credential",
    "load_issuer",
    "present",
    "run",
    "verify_credential",
    "verify_presentation",
    "verify_run",
]
