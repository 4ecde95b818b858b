"""``ecdsa-rdfc-2019`` with P-256 and SHA-256, as a ``DataIntegrityProof`` (vc-di-ecdsa §3.3)."""

from ..._internal.contexts import DATA_INTEGRITY_V2, VC_V2
from ..keys import KeyType
from ._rdfc_suite import RdfcSuite

ECDSA_RDFC_2019 = RdfcSuite(
    proof_type="DataIntegrityProof",
    cryptosuite="ecdsa-rdfc-2019",
    key_type=KeyType.P256,
    defining_contexts=(VC_V2, DATA_INTEGRITY_V2),
)
