"""The transparency log's Merkle tree (RFC 9162 §2.1) and signed checkpoints (C2SP).

Known answers are the classic RFC 6962 test inputs; every figure below was recomputed by hand
(nested hashlib calls following the tree shape) before being written down.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vc_runid.errors import KeyMaterialError, LogError, ProofError, RunIdError
from vc_runid.transparency import (
    EMPTY_ROOT,
    Checkpoint,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    key_id,
    leaf_hash,
    node_hash,
    parse_signed_checkpoint,
    parse_vkey,
    root_hash,
    sign_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_signed_checkpoint,
    vkey,
)

# --- RFC 6962 / RFC 9162 known answers ----------------------------------------------------------

INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
LEAVES = [leaf_hash(d) for d in INPUTS]

# Root of the tree of the first n inputs, n = 0..8.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# Named interior nodes of the 8-leaf tree, for the proof figures.
L1 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
L4 = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
N01 = ROOTS[2]
N0123 = ROOTS[4]
N23 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
N45 = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
N67 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
N4567 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"

INCLUSION_VECTORS = [  # (leaf index, tree size, audit path)
    (0, 1, []),
    (0, 8, [L1, N23, N4567]),
    (5, 8, [L4, N67, N0123]),
    (2, 3, [N01]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", N23, L4]),
]

CONSISTENCY_VECTORS = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, [L1, N23, N4567]),
    (6, 8, [N45, N67, N0123]),
    (2, 5, [N23, L4]),
]


def _hex(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_leaf_hash_prefixes_0x00() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert leaf_hash(b"") != hashlib.sha256(b"").digest()


def test_node_hash_prefixes_0x01() -> None:
    left, right = LEAVES[0], LEAVES[1]
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    assert root_hash([]) == EMPTY_ROOT == bytes.fromhex(ROOTS[0])
    assert MerkleTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_root_known_answers(size: int) -> None:
    assert root_hash(LEAVES[:size]).hex() == ROOTS[size]
    assert MerkleTree(LEAVES[:size]).root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_VECTORS)
def test_inclusion_known_answers(index: int, size: int, path: list[str]) -> None:
    assert _hex(inclusion_proof(index, LEAVES[:size])) == path
    assert _hex(MerkleTree(LEAVES).inclusion_proof(index, size)) == path
    proof = [bytes.fromhex(p) for p in path]
    assert verify_inclusion(LEAVES[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_VECTORS)
def test_consistency_known_answers(old: int, new: int, path: list[str]) -> None:
    assert _hex(consistency_proof(old, LEAVES[:new])) == path
    assert _hex(MerkleTree(LEAVES).consistency_proof(old, new)) == path
    proof = [bytes.fromhex(p) for p in path]
    assert verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


# --- MerkleTree against the recursive definitions, every size up to 64 --------------------------

MAX = 64
BIG_LEAVES = [leaf_hash(f"credential-{i}".encode()) for i in range(MAX)]


@pytest.fixture(scope="module")
def grown() -> MerkleTree:
    """A tree grown one append at a time; earlier sizes are queried through ``size=``."""
    tree = MerkleTree()
    for i, h in enumerate(BIG_LEAVES):
        assert tree.append(h) == i
    return tree


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_tree_built_from_stored_hashes_equals_tree_built_by_appending(grown: MerkleTree) -> None:
    for n in range(MAX + 1):
        loaded = MerkleTree(BIG_LEAVES[:n])
        assert loaded.size == len(loaded) == n
        assert loaded.root() == grown.root(n) == root_hash(BIG_LEAVES[:n])
    assert grown.leaves() == BIG_LEAVES
    assert grown.leaf(7) == BIG_LEAVES[7]


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_inclusion_proofs_match_definition_and_verify(grown: MerkleTree, n: int) -> None:
    leaves = BIG_LEAVES[:n]
    root = grown.root(n)
    other_root = _flip(root)
    for i in range(n):
        proof = grown.inclusion_proof(i, n)
        assert proof == inclusion_proof(i, leaves)
        assert MerkleTree(leaves).inclusion_proof(i) == proof
        assert verify_inclusion(leaves[i], i, n, proof, root)
        # a tampered proof, element by element
        for j in range(len(proof)):
            tampered = proof[:j] + [_flip(proof[j])] + proof[j + 1 :]
            assert not verify_inclusion(leaves[i], i, n, tampered, root)
        # too short or too long
        if proof:
            assert not verify_inclusion(leaves[i], i, n, proof[:-1], root)
        assert not verify_inclusion(leaves[i], i, n, proof + [root], root)
        # the wrong leaf, the wrong index, the wrong root
        assert not verify_inclusion(_flip(leaves[i]), i, n, proof, root)
        for j in range(n + 1):
            if j != i:
                assert not verify_inclusion(leaves[i], j, n, proof, root)
        assert not verify_inclusion(leaves[i], i, n, proof, other_root)
        # the wrong size, each with its own true root (claiming another tree head)
        for s in range(MAX + 1):
            if s != n:
                assert not verify_inclusion(leaves[i], i, s, proof, grown.root(s))


@pytest.mark.parametrize("n", range(1, MAX + 1))
def test_consistency_proofs_match_definition_and_verify(grown: MerkleTree, n: int) -> None:
    leaves = BIG_LEAVES[:n]
    new_root = grown.root(n)
    for m in range(n + 1):
        proof = grown.consistency_proof(m, n)
        old_root = grown.root(m)
        assert proof == consistency_proof(m, leaves)
        assert MerkleTree(leaves).consistency_proof(m) == proof
        assert verify_consistency(m, n, old_root, new_root, proof)
        for j in range(len(proof)):
            tampered = proof[:j] + [_flip(proof[j])] + proof[j + 1 :]
            assert not verify_consistency(m, n, old_root, new_root, tampered)
        if proof:
            assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
        assert not verify_consistency(m, n, old_root, new_root, proof + [new_root])
        assert not verify_consistency(m, n, _flip(old_root), new_root, proof)
        if m == 0:
            continue  # every tree extends the empty one: the empty proof binds nothing more
        assert not verify_consistency(m, n, old_root, _flip(new_root), proof)
        # another old size with its own true root: a log cannot pass off a different history
        for other in range(1, n + 1):
            if other != m:
                assert not verify_consistency(other, n, grown.root(other), new_root, proof)
        for other in range(1, MAX + 1):
            if other != n:
                assert not verify_consistency(m, other, old_root, grown.root(other), proof)


def test_a_shrinking_tree_is_never_consistent(grown: MerkleTree) -> None:
    proof = grown.consistency_proof(3, 8)
    assert not verify_consistency(8, 3, grown.root(8), grown.root(3), proof)


def test_tree_size_is_bound_by_the_checkpoint_not_by_the_proof(grown: MerkleTree) -> None:
    # RFC 9162 §2.1.3.2 checks a proof against a (size, root) pair. A proof for leaf 0 of an
    # 8-leaf tree has the same shape in a 7-leaf tree, so it passes with size 7 and the 8-leaf
    # root. Size and root must therefore come from the same verified checkpoint, never one from
    # the checkpoint and one from the requester.
    proof = grown.inclusion_proof(0, 8)
    assert verify_inclusion(BIG_LEAVES[0], 0, 7, proof, grown.root(8))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.inclusion_proof(8),
        lambda t: t.inclusion_proof(-1),
        lambda t: t.inclusion_proof(3, 3),
        lambda t: t.consistency_proof(9),
        lambda t: t.consistency_proof(5, 4),
        lambda t: t.root(9),
        lambda t: t.append(b"short"),
        lambda t: inclusion_proof(0, []),
        lambda t: consistency_proof(2, LEAVES[:1]),
    ],
)
def test_out_of_range_requests_raise_value_error(call: Callable[[MerkleTree], object]) -> None:
    with pytest.raises(ValueError):
        call(MerkleTree(LEAVES))


def test_verifiers_answer_false_to_malformed_input() -> None:
    root = bytes.fromhex(ROOTS[8])
    proof = [bytes.fromhex(h) for h in (L1, N23, N4567)]
    assert not verify_inclusion(LEAVES[0], -1, 8, proof, root)
    assert not verify_inclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(LEAVES[0], 0, 8, [*proof[:2], b"short"], root)
    assert not verify_inclusion(LEAVES[0], True, 8, proof, root)
    assert not verify_consistency(0, 8, EMPTY_ROOT, root, proof)  # from empty: no proof needed
    assert verify_consistency(0, 8, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 8, root, root, [])  # ... but the empty root is
    assert not verify_consistency(4, 8, bytes.fromhex(N0123), root, [])


# --- signed checkpoints (C2SP tlog-checkpoint in a C2SP signed-note) ----------------------------

ORIGIN = "example.com/runid-log"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
CHECKPOINT = Checkpoint(origin=ORIGIN, tree_size=8, root_hash=bytes.fromhex(ROOTS[8]))
MALFORMED = "RUNID_LOG_CHECKPOINT_INVALID"
BAD_SIGNATURE = "RUNID_PROOF_INVALID"


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _signed() -> str:
    return sign_checkpoint(CHECKPOINT, ORIGIN, LOG_KEY)


def test_checkpoint_body_is_origin_size_root_each_ending_in_newline() -> None:
    root_b64 = base64.b64encode(bytes.fromhex(ROOTS[8])).decode()
    assert CHECKPOINT.body() == f"{ORIGIN}\n8\n{root_b64}\n"


def test_key_id_is_sha256_of_name_newline_type_and_key() -> None:
    expected = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + _raw(LOG_KEY)).digest()[:4]
    assert key_id(ORIGIN, LOG_KEY.public_key()) == expected


def test_signature_line_is_em_dash_name_and_key_id_then_signature() -> None:
    note = _signed()
    text, _, sig_line = note.partition("\n\n")
    assert text + "\n" == CHECKPOINT.body()
    assert sig_line.startswith(f"\u2014 {ORIGIN} ") and sig_line.endswith("\n")
    raw = base64.b64decode(sig_line.split(" ")[2])
    assert raw[:4] == key_id(ORIGIN, LOG_KEY.public_key())
    LOG_KEY.public_key().verify(raw[4:], CHECKPOINT.body().encode())  # raises if wrong


def test_signed_checkpoint_round_trip() -> None:
    note = _signed()
    assert verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key()) == CHECKPOINT
    checkpoint, signatures = parse_signed_checkpoint(note)
    assert checkpoint == CHECKPOINT
    assert [(s.key_name, s.key_id) for s in signatures] == [
        (ORIGIN, key_id(ORIGIN, LOG_KEY.public_key()))
    ]
    assert signatures[0].line() == note.split("\n\n")[1]


def test_checkpoint_json_uses_standard_base64_for_the_root() -> None:
    data = CHECKPOINT.model_dump_json()
    assert base64.b64encode(CHECKPOINT.root_hash).decode() in data
    assert Checkpoint.model_validate_json(data) == CHECKPOINT


def test_empty_log_checkpoint() -> None:
    empty = Checkpoint(origin=ORIGIN, tree_size=0, root_hash=EMPTY_ROOT)
    note = sign_checkpoint(empty, ORIGIN, LOG_KEY)
    assert note.split("\n")[1] == "0"
    assert verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key()) == empty


def test_vkey_round_trip() -> None:
    text = vkey(ORIGIN, LOG_KEY.public_key())
    name, hex_id, b64 = text.split("+", 2)
    assert name == ORIGIN
    assert hex_id == key_id(ORIGIN, LOG_KEY.public_key()).hex()
    assert base64.b64decode(b64) == b"\x01" + _raw(LOG_KEY)
    parsed_name, parsed_key = parse_vkey(text)
    assert parsed_name == ORIGIN
    assert parsed_key.public_bytes(Encoding.Raw, PublicFormat.Raw) == _raw(LOG_KEY)


def test_vkey_with_a_wrong_key_id_is_refused() -> None:
    name, _, b64 = vkey(ORIGIN, LOG_KEY.public_key()).split("+", 2)
    with pytest.raises(LogError) as err:
        parse_vkey(f"{name}+00000000+{b64}")
    assert err.value.code.value == MALFORMED


def _replace_line(index: int, value: str) -> Callable[[str], str]:
    def mutate(note: str) -> str:
        lines = note.split("\n")
        lines[index] = value
        return "\n".join(lines)

    return mutate


def _resign_signature(note: str) -> str:
    text, _, line = note.partition("\n\n")
    prefix, _, encoded = line.rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    return f"{text}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"


OTHER_ROOT_B64 = base64.b64encode(bytes.fromhex(ROOTS[7])).decode()


TAMPERED = [  # (name, mutation of the note, expected code)
    ("larger size", _replace_line(1, "9"), BAD_SIGNATURE),
    ("smaller size", _replace_line(1, "7"), BAD_SIGNATURE),
    ("other root", _replace_line(2, OTHER_ROOT_B64), BAD_SIGNATURE),
    ("other origin", _replace_line(0, "example.com/other-log"), BAD_SIGNATURE),
    ("flipped signature bit", _resign_signature, BAD_SIGNATURE),
    (
        "other key name in signature line",
        lambda n: n.replace(f"\u2014 {ORIGIN} ", "\u2014 example.com/other "),
        BAD_SIGNATURE,
    ),
    ("signature removed", lambda n: n.split("\n\n")[0] + "\n\n", MALFORMED),
    ("no blank line", lambda n: n.replace("\n\n", "\n"), MALFORMED),
    ("hyphen for em dash", lambda n: n.replace("\u2014", "-"), MALFORMED),
    ("no final newline", lambda n: n[:-1], MALFORMED),
    ("carriage returns", lambda n: n.replace("\n", "\r\n"), MALFORMED),
    ("signature not base64", lambda n: n[:-3] + "*=\n", MALFORMED),
]


@pytest.mark.parametrize(
    ("mutate", "code"), [(m, c) for _, m, c in TAMPERED], ids=[n for n, _, _ in TAMPERED]
)
def test_tampered_checkpoint_is_rejected(mutate: Callable[[str], str], code: str) -> None:
    note = mutate(_signed())
    assert note != _signed()
    with pytest.raises(RunIdError) as err:
        verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key())
    assert err.value.code.value == code
    assert isinstance(err.value, ProofError if code == BAD_SIGNATURE else LogError)


BAD_BODIES = [  # (name, note text, a checkpoint body the log might have got wrong)
    ("leading zero in size", f"{ORIGIN}\n08\n{base64.b64encode(EMPTY_ROOT).decode()}\n"),
    ("signed size", f"{ORIGIN}\n+8\n{base64.b64encode(EMPTY_ROOT).decode()}\n"),
    ("non-ASCII digits", f"{ORIGIN}\n\u0668\n{base64.b64encode(EMPTY_ROOT).decode()}\n"),
    ("size above uint64", f"{ORIGIN}\n{2**64}\n{base64.b64encode(EMPTY_ROOT).decode()}\n"),
    ("root not base64", f"{ORIGIN}\n8\nnot*base64\n"),
    ("root too short", f"{ORIGIN}\n8\n{base64.b64encode(bytes(31)).decode()}\n"),
    ("root not canonical base64", f"{ORIGIN}\n8\n{base64.b64encode(EMPTY_ROOT).decode()[:-2]}V=\n"),
    ("missing root line", f"{ORIGIN}\n8\n"),
    ("empty origin", f"\n8\n{base64.b64encode(EMPTY_ROOT).decode()}\n"),
    ("empty extension line", f"{ORIGIN}\n8\n{base64.b64encode(EMPTY_ROOT).decode()}\n\nx\n"),
]


def _sign_raw(text: str) -> str:
    """Sign arbitrary note text the way a buggy log would, bypassing Checkpoint.body()."""
    raw = key_id(ORIGIN, LOG_KEY.public_key()) + LOG_KEY.sign(text.encode())
    return f"{text}\n\u2014 {ORIGIN} {base64.b64encode(raw).decode()}\n"


@pytest.mark.parametrize("text", [t for _, t in BAD_BODIES], ids=[n for n, _ in BAD_BODIES])
def test_malformed_checkpoint_body_is_rejected_even_when_signed(text: str) -> None:
    note = _sign_raw(text)
    for call in (
        lambda: parse_signed_checkpoint(note),
        lambda: verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key()),
    ):
        with pytest.raises(LogError) as err:
            call()
        assert err.value.code.value == MALFORMED


def test_the_text_is_not_read_before_its_signature_verifies() -> None:
    # signed-note: the text MUST be ignored unless signed by a trusted key, so an unsigned or
    # wrongly signed body is reported as a bad signature, whatever it contains.
    note = _replace_line(1, "08")(_signed())
    with pytest.raises(ProofError):
        verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key())


def test_note_signed_by_another_key_is_rejected() -> None:
    note = sign_checkpoint(CHECKPOINT, ORIGIN, OTHER_KEY)
    with pytest.raises(ProofError) as err:
        verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key())
    assert err.value.code.value == BAD_SIGNATURE


def test_verifying_under_another_key_name_is_rejected() -> None:
    with pytest.raises(ProofError) as err:
        verify_signed_checkpoint(_signed(), "example.com/other", LOG_KEY.public_key())
    assert err.value.code.value == BAD_SIGNATURE


def test_signatures_from_unknown_keys_are_ignored() -> None:
    # signed-note: verifiers MUST ignore signatures from unknown keys (e.g. witness cosignatures).
    witness = sign_checkpoint(CHECKPOINT, "witness.example/w1", OTHER_KEY).split("\n\n")[1]
    note = _signed() + witness
    assert verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key()) == CHECKPOINT
    assert len(parse_signed_checkpoint(note)[1]) == 2


def test_a_failing_signature_from_the_trusted_key_rejects_the_note() -> None:
    # signed-note: "If a signature from a known key fails to verify, clients SHOULD reject the
    # whole note", even when another line from the same key verifies.
    good = _signed()
    bad_line = _resign_signature(good).split("\n\n")[1]
    with pytest.raises(ProofError):
        verify_signed_checkpoint(good + bad_line, ORIGIN, LOG_KEY.public_key())


def test_extension_lines_are_signed_and_kept() -> None:
    extended = CHECKPOINT.model_copy(update={"extensions": ("timestamp 1700000000",)})
    note = sign_checkpoint(extended, ORIGIN, LOG_KEY)
    assert verify_signed_checkpoint(note, ORIGIN, LOG_KEY.public_key()) == extended
    stripped = note.replace("timestamp 1700000000\n", "")
    with pytest.raises(ProofError):
        verify_signed_checkpoint(stripped, ORIGIN, LOG_KEY.public_key())


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname"])
def test_invalid_key_names_cannot_sign(name: str) -> None:
    with pytest.raises(KeyMaterialError):
        sign_checkpoint(CHECKPOINT, name, LOG_KEY)


@pytest.mark.parametrize(
    "fields",
    [
        {"origin": "", "tree_size": 1, "root_hash": EMPTY_ROOT},
        {"origin": "two\nlines", "tree_size": 1, "root_hash": EMPTY_ROOT},
        {"origin": ORIGIN, "tree_size": -1, "root_hash": EMPTY_ROOT},
        {"origin": ORIGIN, "tree_size": 2**64, "root_hash": EMPTY_ROOT},
        {"origin": ORIGIN, "tree_size": 1, "root_hash": b"short"},
        {"origin": ORIGIN, "tree_size": 1, "root_hash": EMPTY_ROOT, "extensions": ("",)},
        {"origin": ORIGIN, "tree_size": 1, "root_hash": EMPTY_ROOT, "unknown": 1},
    ],
)
def test_checkpoint_model_refuses_what_cannot_be_written(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Checkpoint.model_validate(fields)
