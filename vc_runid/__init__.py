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

from typing import TYPE_CHECKING

from ._internal.lazy import keep_pyld_offline, lazy_exports

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
    from .vc.credentials import Issuer, issue_credential
    from .vc.formats import ProofFormat
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
    ".vc.credentials": ("Issuer", "issue_credential"),
    ".vc.formats": ("ProofFormat",),
    ".vc.keys": ("KeyType",),
    ".vc.policy": ("TrustPolicy",),
    ".vc.presentations": ("PresentationReport", "present"),
    ".vc.verification": ("VerificationReport", "Verifier", "verify_credential"),
    ".errors": ("ErrorCode", "RunIdError"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


keep_pyld_offline()  # pyld, when a command needs it, never picks a network loader

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
