"""How the tests of other rules name whom they trust.

Since a verdict needs a trust policy, every ``verify``/``verify-bundle``/``audit`` in a test that
is about something else (a proof format, a context, a bundle member) says explicitly which policy
it is taken under. tests/test_trust_policy.py is the one about the policy itself.
"""

from __future__ import annotations

from vc_runid.vc.policy import TrustPolicy

#: For tests of other rules: any issuer, named as unsafe in every report.
ANY_ISSUER = TrustPolicy.unsafe_any_issuer()

VERDICT_COMMANDS = frozenset({"verify", "verify-bundle", "audit"})
TRUST_FLAGS = frozenset({"--trust", "--trusted-issuer", "--any-issuer"})


def with_trust(argv: list[str], *flags: str) -> list[str]:
    """``argv`` with ``flags`` (default ``--any-issuer``) added to a verdict command that names no
    policy of its own."""
    if argv and argv[0] in VERDICT_COMMANDS and not TRUST_FLAGS.intersection(argv):
        return [*argv, *(flags or ("--any-issuer",))]
    return argv
