"""``Ed25519Signature2020`` (W3C CCG, vc-di-eddsa Appendix): the VC 1.1 profile peers such as
didkit verify. The proof type itself names the suite; there is no ``cryptosuite`` property."""

from ..._internal.contexts import ED25519_2020_V1
from ..keys import KeyType
from ._rdfc_suite import RdfcSuite

ED25519_SIGNATURE_2020 = RdfcSuite(
    proof_type="Ed25519Signature2020",
    cryptosuite=None,
    key_type=KeyType.ED25519,
    defining_contexts=(ED25519_2020_V1,),
    proof_context_is_prefix=False,
)
