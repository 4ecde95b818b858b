"""``eddsa-jcs-2022``: Ed25519 over JCS (RFC 8785), as a ``DataIntegrityProof`` (vc-di-eddsa §3.3)."""

from ..._internal.contexts import DATA_INTEGRITY_V2, VC_V2
from ..keys import KeyType
from ._jcs_suite import JcsSuite

EDDSA_JCS_2022 = JcsSuite(
    proof_type="DataIntegrityProof",
    cryptosuite="eddsa-jcs-2022",
    key_type=KeyType.ED25519,
    defining_contexts=(VC_V2, DATA_INTEGRITY_V2),
)
