"""``vc-runid verify-weights``: a declaration's weights against an OpenSSF Model Signing signature."""

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ErrorCode, RunError, RunIdError, TrustError, error_for
from .common import (
    NO_POLICY_HINT,
    AnyIssuerOption,
    TrustedIssuerOption,
    TrustOption,
    fail,
    trust_policy,
)


def verify_weights_cmd(
    declaration: Annotated[Path, typer.Argument(help="The run declaration (JSON, or a compact JWS).")],
    model: Annotated[Path, typer.Option("--model", help="The model directory the run used.")],
    oms_key: Annotated[Path, typer.Option("--oms-key", help="The model publisher's public key (EC, PEM).")],
    signature: Annotated[
        Path | None, typer.Option("--signature", help="The OMS signature (default: <model>/model.sig).")
    ] = None,
    trust: TrustOption = None,
    trusted_issuer: TrustedIssuerOption = None,
    any_issuer: AnyIssuerOption = False,
) -> None:
    """Offline: the declaration is signed by an issuer you trust, the model directory is what the
    OMS signature signed (checked with the publisher's key), and the declaration states that
    signed model. Exit 0 when all three hold, 1 otherwise, 2 for a usage error."""
    from .._internal.files import read_limited
    from ..runs.declaration import declaration_subject
    from ..runs.verify import verify_run
    from ..runs.weights_oms import verify_oms_weights
    from ..vc.secured import SecuredCredential

    try:
        policy = trust_policy(trust, trusted_issuer, any_issuer)
        if policy is None:
            raise TrustError(NO_POLICY_HINT, code=ErrorCode.TRUST_POLICY_MISSING)
        data = read_limited(declaration, 1 << 22)
        report = verify_run(data, policy=policy)
        if not report.valid:
            failed = [c for c in report.checks if not c.passed]
            first = failed[0] if failed else None
            known = {code.value for code in ErrorCode}
            code = ErrorCode(first.code) if first and first.code in known else ErrorCode.PROOF_INVALID
            raise error_for(
                "the declaration does not verify under your trust policy: "
                + (f"{first.name}: {first.message}" if first else "no check passed"),
                code=code,
            )
        # Verified just above: the decoded document is the one the verdict is about.
        _, composition = declaration_subject(SecuredCredential.read(data).unverified_document)
        weights = composition.model.weights
        if weights is None:
            raise RunError("the declaration states no weights for its model", code=ErrorCode.DECLARATION_MISMATCH)
        message = verify_oms_weights(model, weights, public_key=oms_key, signature=signature)
    except RunIdError as exc:
        fail(exc)
    typer.echo(f"valid: declaration verifies ({report.policy}); {message}")


def register(app: typer.Typer) -> None:
    app.command("verify-weights")(verify_weights_cmd)


__all__ = ["register"]
