"""``ecdsa-jcs-2019`` with P-256 and SHA-256, as a ``DataIntegrityProof`` (vc-di-ecdsa §3.4).

P-384 (SHA-384) is not offered: vc-runid keys are Ed25519 or P-256.
"""

from ..._internal.contexts import DATA_INTEGRITY_V2, VC_V2
from ..keys import KeyType
from ._jcs_suite import JcsSuite

ECDSA_JCS_2019 = JcsSuite(
    proof_type="DataIntegrityProof",
    cryptosuite="ecdsa-jcs-2019",
    key_type=KeyType.P256,
    defining_contexts=(VC_V2, DATA_INTEGRITY_V2),
)
