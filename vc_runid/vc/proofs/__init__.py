"""Data Integrity cryptosuites, one module each, and the lookup from a proof to its suite."""

from __future__ import annotations

from typing import Any

from ...errors import ErrorCode, ProofError
from ._jcs_suite import JcsSuite
from ._rdfc_suite import ProofOptions, RdfcSuite
from .ecdsa_jcs_2019 import ECDSA_JCS_2019
from .ecdsa_rdfc_2019 import ECDSA_RDFC_2019
from .ed25519_signature_2020 import ED25519_SIGNATURE_2020
from .eddsa_jcs_2022 import EDDSA_JCS_2022
from .eddsa_rdfc_2022 import EDDSA_RDFC_2022

# JcsSuite is an RdfcSuite with another transformation: one type serves every suite's callers.
SUITES: tuple[RdfcSuite, ...] = (
    EDDSA_RDFC_2022,
    ECDSA_RDFC_2019,
    EDDSA_JCS_2022,
    ECDSA_JCS_2019,
    ED25519_SIGNATURE_2020,
)

__all__ = [
    "ECDSA_JCS_2019",
    "ECDSA_RDFC_2019",
    "ED25519_SIGNATURE_2020",
    "EDDSA_JCS_2022",
    "EDDSA_RDFC_2022",
    "SUITES",
    "JcsSuite",
    "ProofOptions",
    "RdfcSuite",
    "suite_for",
]


def suite_for(proof: dict[str, Any]) -> RdfcSuite:
    """The suite that checks ``proof``, or ``RUNID_PROOF_TYPE_UNSUPPORTED`` /
    ``RUNID_CRYPTOSUITE_UNSUPPORTED``."""
    for suite in SUITES:
        if suite.matches(proof):
            return suite
    if proof.get("type") == "DataIntegrityProof":
        raise ProofError(
            f"cryptosuite {proof.get('cryptosuite')!r} is not supported "
            "(supported: eddsa-rdfc-2022, ecdsa-rdfc-2019, eddsa-jcs-2022, ecdsa-jcs-2019)",
            code=ErrorCode.CRYPTOSUITE_UNSUPPORTED,
        )
    raise ProofError(
        f"proof type {proof.get('type')!r} is not supported "
        "(supported: DataIntegrityProof, Ed25519Signature2020)",
        code=ErrorCode.PROOF_TYPE_UNSUPPORTED,
    )
