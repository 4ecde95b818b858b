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

from .binding import Observed, OutputDigest, Usage, bind, output_digest
from .chat_request import composition_from_chat_request
from .composition import CompositionBuilder, Disclosure, Disclosures, RunComposition
from .contexts import DocumentLoader
from .credentials import Issuer, ProofFormat, RunProfile, init_home, issue_credential, load_issuer
from .declaration import declare
from .dids import DidResolver
from .errors import ErrorCode, RunIdError
from .keys import KeyPair, KeyType
from .manifest import compose_from_manifest
from .policy import TrustPolicy
from .presentations import PresentationReport, present, present_runs, verify_presentation
from .run_verification import verify_run
from .runner import Run, run, run_callable
from .store import RunStore
from .verification import CheckResult, VerificationReport, Verifier, verify_credential

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
