"""c2sp.org/tlog-cosignature (cosignature/v1, Ed25519), one test per rule, plus quorum counting."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.transparency import (
    Checkpoint,
    MerkleTree,
    Witness,
    add_cosignatures,
    cosign,
    cosigner_key_id,
    leaf_hash,
    parse_signed_checkpoint,
    parse_witness_vkey,
    sign_checkpoint,
    verify_cosignatures,
    verify_signed_checkpoint,
)
from vc_runid.transparency.cosignature import cosignature_message

ORIGIN = "example.com/behind-the-sofa"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
W1_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
W2_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))
W1 = Witness("witness.example/w1", W1_KEY.public_key())
W2 = Witness("witness.example/w2", W2_KEY.public_key())


def _note(size: int = 3) -> str:
    tree = MerkleTree([leaf_hash(bytes([i])) for i in range(size)])
    return sign_checkpoint(Checkpoint(origin=ORIGIN, tree_size=size, root_hash=tree.root()), ORIGIN, LOG_KEY)


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_key_id_is_sha256_of_name_newline_0x04_key() -> None:
    expected = hashlib.sha256(W1.name.encode() + b"\n" + b"\x04" + _raw(W1_KEY)).digest()[:4]
    assert cosigner_key_id(W1.name, W1_KEY.public_key()) == expected == W1.key_id


def test_signed_message_is_header_time_line_then_note_text() -> None:
    body = parse_signed_checkpoint(_note())[0].body()
    assert cosignature_message(body, 1679315147) == f"cosignature/v1\ntime 1679315147\n{body}".encode()


def test_the_spec_example_message_layout() -> None:
    # tlog-cosignature "Ed25519 signed message": the example, byte for byte.
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_signature_is_8_byte_big_endian_timestamp_then_ed25519() -> None:
    note = _note()
    line = cosign(note, W1.name, W1_KEY, timestamp=1679315147)
    assert line.key_id == W1.key_id
    assert struct.unpack(">Q", line.signature[:8]) == (1679315147,)
    body = parse_signed_checkpoint(note)[0].body()
    W1_KEY.public_key().verify(line.signature[8:], cosignature_message(body, 1679315147))


def test_timestamp_above_2_63_minus_1_is_refused() -> None:
    with pytest.raises(ValueError):
        cosign(_note(), W1.name, W1_KEY, timestamp=2**63)


def test_quorum_of_distinct_witnesses() -> None:
    note = _note()
    both = add_cosignatures(note, [cosign(note, w.name, k, timestamp=10) for w, k in ((W1, W1_KEY), (W2, W2_KEY))])
    assert {c.witness for c in verify_cosignatures(both, [W1, W2], 2)} == {W1, W2}
    # The log's own signature still verifies with cosignatures appended.
    assert verify_signed_checkpoint(both, ORIGIN, LOG_KEY.public_key()).tree_size == 3


def test_one_witness_twice_counts_once() -> None:
    note = _note()
    twice = add_cosignatures(note, [cosign(note, W1.name, W1_KEY, timestamp=t) for t in (10, 11)])
    with pytest.raises(RunIdError) as err:
        verify_cosignatures(twice, [W1, W2], 2)
    assert err.value.code is ErrorCode.LOG_WITNESS_QUORUM


def test_lines_from_unknown_keys_are_ignored() -> None:
    note = _note()
    stranger = Ed25519PrivateKey.generate()
    signed = add_cosignatures(note, [cosign(note, "stranger.example/w", stranger, timestamp=1),
                                     cosign(note, W1.name, W1_KEY, timestamp=1)])
    assert [c.witness for c in verify_cosignatures(signed, [W1], 1)] == [W1]


def test_a_bad_line_from_a_trusted_witness_rejects_the_note() -> None:
    note = _note()
    good = cosign(note, W1.name, W1_KEY, timestamp=5)
    forged = good.model_copy(update={"signature": good.signature[:8] + bytes(64)})
    with pytest.raises(RunIdError) as err:
        verify_cosignatures(add_cosignatures(note, [forged, cosign(note, W2.name, W2_KEY, timestamp=5)]), [W1, W2], 1)
    assert err.value.code is ErrorCode.LOG_COSIGNATURE_INVALID


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda n: n.replace("\n3\n", "\n4\n", 1), id="tree-size"),
        pytest.param(lambda n: n.replace(ORIGIN + "\n", "example.com/other\n", 1), id="origin"),
    ],
)
def test_a_cosignature_does_not_survive_a_changed_checkpoint(mutate: object) -> None:
    note = _note()
    signed = add_cosignatures(note, [cosign(note, W1.name, W1_KEY, timestamp=5)])
    with pytest.raises(RunIdError) as err:
        verify_cosignatures(mutate(signed), [W1], 1)  # type: ignore[operator]
    assert err.value.code is ErrorCode.LOG_COSIGNATURE_INVALID


def test_a_changed_timestamp_breaks_the_signature() -> None:
    note = _note()
    line = cosign(note, W1.name, W1_KEY, timestamp=5)
    moved = line.model_copy(update={"signature": struct.pack(">Q", 6) + line.signature[8:]})
    with pytest.raises(RunIdError) as err:
        verify_cosignatures(add_cosignatures(note, [moved]), [W1], 1)
    assert err.value.code is ErrorCode.LOG_COSIGNATURE_INVALID


def test_cosignatures_dated_in_the_future_may_be_refused() -> None:
    note = _note()
    signed = add_cosignatures(note, [cosign(note, W1.name, W1_KEY, timestamp=2000)])
    assert verify_cosignatures(signed, [W1], 1, not_after=2000)
    with pytest.raises(RunIdError) as err:
        verify_cosignatures(signed, [W1], 1, not_after=1999)
    assert err.value.code is ErrorCode.LOG_COSIGNATURE_INVALID


@pytest.mark.parametrize("quorum", [0, 3])
def test_a_quorum_the_list_cannot_meet_is_a_usage_error(quorum: int) -> None:
    with pytest.raises(RunIdError) as err:
        verify_cosignatures(_note(), [W1, W2], quorum)
    assert err.value.code is ErrorCode.USAGE


def test_a_log_signature_is_not_a_cosignature() -> None:
    # Same name and key as a witness, but the log's 0x01 key ID: never counted.
    note = _note()
    as_witness = Witness(ORIGIN, LOG_KEY.public_key())
    with pytest.raises(RunIdError) as err:
        verify_cosignatures(note, [as_witness], 1)
    assert err.value.code is ErrorCode.LOG_WITNESS_QUORUM


def test_witness_vkey_round_trip_and_type_byte() -> None:
    text = W1.vkey()
    assert base64.b64decode(text.split("+", 2)[2])[0] == 0x04
    assert parse_witness_vkey(text) == W1


@pytest.mark.parametrize(
    "text",
    [
        "witness.example/w1",
        "witness.example/w1+00000000+" + base64.b64encode(b"\x04" + bytes(32)).decode(),
        "witness.example/w1+" + W1.key_id.hex() + "+" + base64.b64encode(b"\x01" + _raw(W1_KEY)).decode(),
    ],
    ids=["no-key", "wrong-id", "log-key-type"],
)
def test_bad_witness_vkeys_are_refused(text: str) -> None:
    with pytest.raises(RunIdError) as err:
        parse_witness_vkey(text)
    assert err.value.code is ErrorCode.KEY_INVALID


def test_a_trust_policy_names_witnesses_by_cosigner_key() -> None:
    from vc_runid.errors import RunIdError as PolicyError
    from vc_runid.vc.policy import TrustPolicy

    policy = TrustPolicy.from_dict({"issuers": ["did:key:z6MkExample"], "witnessQuorum": 1,
                                    "witnesses": [{"name": W1.name, "key": W1.vkey()}]})
    assert [w.witness() for w in policy.witnesses] == [W1]
    from vc_runid.transparency import vkey as log_vkey

    for bad in ({"name": W1.name, "key": log_vkey(W1.name, W1_KEY.public_key())},  # a log key (0x01)
                {"name": "another.example/w", "key": W1.vkey()}):  # the key names another witness
        with pytest.raises(PolicyError) as err:
            TrustPolicy.from_dict({"issuers": ["did:key:z6MkExample"], "witnessQuorum": 1, "witnesses": [bad]})
        assert err.value.code is ErrorCode.TRUST_POLICY_INVALID
