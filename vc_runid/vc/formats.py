"""The names of the proof formats and run profiles, and which format a profile signs with.

Apart from vc/credentials.py, which signs in them, so that a command line naming a ``--format`` or
``--profile`` (every ``vc-runid`` command's option list, ``--help`` included) does not load the
signing and JSON-LD stack to spell its choices (tests/test_cold_start.py).
"""

from __future__ import annotations

from enum import StrEnum

from ..errors import UsageError


class ProofFormat(StrEnum):
    """How a credential is secured. ``di`` is the default: VC 2.0 + eddsa-rdfc-2022."""

    DI = "di"  # DataIntegrityProof, eddsa-rdfc-2022
    DI_2020 = "di-2020"  # Ed25519Signature2020 (the VC 1.1 profile didkit verifies)
    ECDSA = "ecdsa"  # DataIntegrityProof, ecdsa-rdfc-2019, P-256
    EDDSA_JCS = "eddsa-jcs"  # DataIntegrityProof, eddsa-jcs-2022
    ECDSA_JCS = "ecdsa-jcs"  # DataIntegrityProof, ecdsa-jcs-2019, P-256
    JOSE = "jose"  # VC-JOSE-COSE: application/vc+jwt
    JWT_V1 = "jwt-1.1"  # VC 1.1 JWT encoding (vc claim)


class RunProfile(StrEnum):
    """Which format run credentials take, by what it is for (docs/formats.md, "Profiles")."""

    STANDARD = "standard"  # VC 2.0 + eddsa-rdfc-2022: the current W3C recommendations
    COMPATIBLE = "compatible"  # the format with the widest measured reach in deployed wallets


#: The format of each profile. ``compatible`` is VC 1.1 + Ed25519Signature2020, the one the most
#: cells of the measured wallet matrix verify (tests/interop/wallet_matrix.py checks it stays so).
PROFILE_FORMATS: dict[RunProfile, ProofFormat] = {
    RunProfile.STANDARD: ProofFormat.DI,
    RunProfile.COMPATIBLE: ProofFormat.DI_2020,
}


def profile_format(profile: RunProfile | str | None, proof_format: ProofFormat | None = None) -> ProofFormat:
    """The format to sign with: the profile's, else ``proof_format``, else the default (``di``).

    A profile and a different explicit non-default format contradict each other and are refused;
    ``di`` counts as "not chosen", being every function's default."""
    if profile is None:
        return proof_format or ProofFormat.DI
    try:
        chosen = PROFILE_FORMATS[RunProfile(profile)]
    except ValueError as exc:
        raise UsageError(f"unknown profile {profile!r}; use standard or compatible") from exc
    if proof_format not in (None, ProofFormat.DI, chosen):
        raise UsageError(
            f"profile {RunProfile(profile).value} signs {chosen.value}, but the format {proof_format.value} "
            "was asked for: give one or the other"
        )
    return chosen
