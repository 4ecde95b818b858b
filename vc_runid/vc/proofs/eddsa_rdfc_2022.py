"""``eddsa-rdfc-2022``: Ed25519 over RDFC-1.0, as a ``DataIntegrityProof`` (vc-di-eddsa §3.2)."""

from ..._internal.contexts import DATA_INTEGRITY_V2, VC_V2
from ..keys import KeyType
from ._rdfc_suite import RdfcSuite

EDDSA_RDFC_2022 = RdfcSuite(
    proof_type="DataIntegrityProof",
    cryptosuite="eddsa-rdfc-2022",
    key_type=KeyType.ED25519,
    defining_contexts=(VC_V2, DATA_INTEGRITY_V2),
)
