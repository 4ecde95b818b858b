"""Keys (Ed25519, P-256; Multikey and JWK forms; the key store) and DIDs (did:key, did:web).

did:key resolves from the key itself; did:web only from a local store of DID documents — nothing is
ever fetched. A rotated-out key stops verifying; a key not authorized for assertionMethod never does.
"""

from __future__ import annotations

import copy
import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from vc_runid._internal.multiformats import Multicodec, multibase_decode
from vc_runid.errors import ErrorCode, RunIdError
from vc_runid.store.home import KeyStore, init_home, load_issuer
from vc_runid.vc.credentials import Issuer, key_type_for
from vc_runid.vc.dids import (
    ASSERTION,
    AUTHENTICATION,
    DidResolver,
    did_key_for,
    did_key_vm,
    did_web_document,
    did_web_from_domain,
    did_web_url,
    load_did_store,
    resolve_did_key,
)
from vc_runid.vc.formats import ProofFormat
from vc_runid.vc.keys import KeyPair, KeyType, PublicKey, load_key_file
from vc_runid.vc.verification import Verifier

KEY_TYPES = [KeyType.ED25519, KeyType.P256]
DID_KEY_PREFIX = {KeyType.ED25519: "did:key:z6Mk", KeyType.P256: "did:key:zDn"}
PUBLIC_CODEC = {KeyType.ED25519: Multicodec.ED25519_PUB, KeyType.P256: Multicodec.P256_PUB}
PUBLIC_KEY_BYTES = {KeyType.ED25519: 32, KeyType.P256: 33}  # raw; P-256 compressed point
WEB_DID = "did:web:example.com"
MESSAGE = b"the bytes a cryptosuite signs"


def raises_code(code: ErrorCode, call: Callable[[], Any]) -> RunIdError:
    with pytest.raises(RunIdError) as caught:
        call()
    assert caught.value.code is code, str(caught.value)
    return caught.value


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_public_key_multikey_round_trip(key_type: KeyType) -> None:
    public = KeyPair.generate(key_type).public

    decoded = PublicKey.from_multikey(public.multikey)

    assert (decoded.key_type, decoded.raw) == (key_type, public.raw)
    assert public.multikey.startswith("z")
    header_and_key = multibase_decode(public.multikey)
    assert header_and_key.startswith(PUBLIC_CODEC[key_type].value)
    assert len(header_and_key) == 2 + PUBLIC_KEY_BYTES[key_type]


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_public_key_jwk_round_trip(key_type: KeyType) -> None:
    public = KeyPair.generate(key_type).public

    decoded = PublicKey.from_jwk(public.jwk)

    assert (decoded.key_type, decoded.raw) == (key_type, public.raw)
    assert "d" not in public.jwk


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_pair_jwk_and_secret_multikey_round_trip(key_type: KeyType) -> None:
    pair = KeyPair.generate(key_type)

    for restored in (KeyPair.from_jwk(pair.jwk), KeyPair.from_secret_multikey(pair.secret_multikey)):
        assert restored.key_type is key_type
        assert restored.private_raw == pair.private_raw
        assert restored.public.raw == pair.public.raw


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_signature_is_64_raw_bytes_and_verifies_with_the_round_tripped_public_key(
    key_type: KeyType,
) -> None:
    pair = KeyPair.generate(key_type)
    signature = pair.sign(MESSAGE)

    assert len(signature) == 64  # Ed25519, or P-256 as IEEE P1363 r || s (never DER)
    assert PublicKey.from_multikey(pair.public.multikey).verify(signature, MESSAGE)
    assert PublicKey.from_jwk(pair.public.jwk).verify(signature, MESSAGE)
    assert not pair.public.verify(signature, MESSAGE + b"!")
    assert not KeyPair.generate(key_type).public.verify(signature, MESSAGE)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_did_key_prefix_names_the_key_type(key_type: KeyType) -> None:
    public = KeyPair.generate(key_type).public

    assert did_key_for(public).startswith(DID_KEY_PREFIX[key_type])
    assert did_key_vm(public) == f"{did_key_for(public)}#{public.multikey}"


@pytest.mark.parametrize(
    ("jwk", "code"),
    [
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, ErrorCode.KEY_INVALID),
        ({"kty": "OKP", "crv": "X25519", "x": "AAAA"}, ErrorCode.KEY_INVALID),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, ErrorCode.KEY_INVALID),  # 3 bytes
        ({"kty": "OKP", "crv": "Ed25519"}, ErrorCode.KEY_INVALID),
        ({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}, ErrorCode.KEY_INVALID),  # off curve
        ({"kty": "OKP", "crv": "Ed25519", "x": 5}, ErrorCode.KEY_INVALID),
    ],
)
def test_malformed_public_jwk_is_refused(jwk: dict[str, Any], code: ErrorCode) -> None:
    raises_code(code, lambda: PublicKey.from_jwk(jwk))


def test_private_jwk_whose_parts_disagree_is_refused() -> None:
    pair, other = KeyPair.generate(), KeyPair.generate()

    raises_code(ErrorCode.KEY_INVALID, lambda: KeyPair.from_jwk({**pair.jwk, "d": other.jwk["d"]}))
    raises_code(ErrorCode.KEY_INVALID, lambda: KeyPair.from_jwk(pair.public.jwk))


def test_a_secret_multikey_is_not_a_public_key() -> None:
    raises_code(ErrorCode.KEY_INVALID, lambda: PublicKey.from_multikey(KeyPair.generate().secret_multikey))


# --- the key store ------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_key_files_are_0600_in_a_0700_directory(key_type: KeyType, tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "home")
    pair = KeyPair.generate(key_type)

    path = store.save("issuer", pair)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert store.load("issuer").private_raw == pair.private_raw


def test_key_store_refuses_to_overwrite_a_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    path = store.save("issuer", KeyPair.generate())
    before = path.read_bytes()

    raises_code(ErrorCode.KEY_EXISTS, lambda: store.save("issuer", KeyPair.generate()))
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", ["", "../escape", ".hidden", "a/b"])
def test_key_store_refuses_names_that_are_not_plain_file_names(name: str, tmp_path: Path) -> None:
    raises_code(ErrorCode.USAGE, lambda: KeyStore(tmp_path).save(name, KeyPair.generate()))


def test_key_store_in_an_unusable_directory_is_an_error_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    raises_code(ErrorCode.USAGE, lambda: KeyStore(blocker).save("issuer", KeyPair.generate()))


@pytest.mark.parametrize(
    ("content", "code"),
    [(None, ErrorCode.KEY_NOT_FOUND), ("not json", ErrorCode.KEY_INVALID), ("[]", ErrorCode.KEY_INVALID)],
)
def test_unusable_key_file_is_refused(content: str | None, code: ErrorCode, tmp_path: Path) -> None:
    path = tmp_path / "key.jwk"
    if content is not None:
        path.write_text(content)

    raises_code(code, lambda: load_key_file(path))


def test_init_home_is_idempotent_and_never_replaces_the_key(tmp_path: Path) -> None:
    first, created = init_home(tmp_path)
    second, created_again = init_home(tmp_path, KeyType.P256)

    assert (created, created_again) == (True, False)
    assert second.did == first.did
    assert second.key.private_raw == first.key.private_raw


def test_load_issuer_without_a_key_is_key_not_found(tmp_path: Path) -> None:
    raises_code(ErrorCode.KEY_NOT_FOUND, lambda: load_issuer(tmp_path))


@pytest.mark.parametrize("config", ["not json", '{"didWeb": 5}', '{"didWeb": "did:key:z6Mk"}'])
def test_load_issuer_with_a_corrupt_identity_file_is_a_usage_error(config: str, tmp_path: Path) -> None:
    init_home(tmp_path)
    (tmp_path / "identity.json").write_text(config)

    raises_code(ErrorCode.USAGE, lambda: load_issuer(tmp_path))


# --- did:key ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_did_key_resolves_offline_to_its_own_key(
    key_type: KeyType, no_network: list[tuple[Any, ...]]
) -> None:
    public = KeyPair.generate(key_type).public
    did = did_key_for(public)

    document = DidResolver().resolve(did)
    method = DidResolver().verification_method(did_key_vm(public), ASSERTION)

    assert document["id"] == did
    assert document[ASSERTION] == [did_key_vm(public)]
    assert method.controller == did
    assert method.public_key.raw == public.raw
    assert no_network == []


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:key:zNotBase58btc0OIl", ErrorCode.DID_INVALID),
        ("did:key:z6Mk", ErrorCode.DID_INVALID),  # a header and no key
        ("did:key:" + KeyPair.generate().secret_multikey, ErrorCode.DID_INVALID),
        ("did:key:u7QE", ErrorCode.DID_INVALID),  # not base58btc
        ("not-a-did", ErrorCode.DID_INVALID),
        ("did:example:unknown", ErrorCode.DID_UNRESOLVED),
    ],
)
def test_unresolvable_did_is_refused(did: str, code: ErrorCode) -> None:
    raises_code(code, lambda: DidResolver().resolve(did))


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_an_issuers_did_key_document_is_what_resolution_returns(key_type: KeyType) -> None:
    issuer = Issuer.generate(key_type)

    assert issuer.did == did_key_for(issuer.key.public)
    assert issuer.did_document() == resolve_did_key(issuer.did)


# --- did:web ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "did", "url"),
    [
        ("example.com", "did:web:example.com", "https://example.com/.well-known/did.json"),
        (
            "example.com:issuers:alice",
            "did:web:example.com:issuers:alice",
            "https://example.com/issuers/alice/did.json",
        ),
        ("example.com%3A8443", "did:web:example.com%3A8443", "https://example.com:8443/.well-known/did.json"),
    ],
)
def test_did_web_document_for_a_domain_and_a_domain_path(domain: str, did: str, url: str) -> None:
    public = KeyPair.generate().public

    document = did_web_document(did_web_from_domain(domain), [public])

    assert did_web_from_domain(domain) == did
    assert did_web_url(did) == url
    vm_id = f"{did}#{public.multikey}"
    ids = [vm_id, f"{vm_id}-ed25519-2020", f"{vm_id}-jwk"]
    assert document["id"] == did
    # One key in the three forms other stacks read (docs/formats.md, "did:web").
    assert document["verificationMethod"] == [
        {"id": ids[0], "type": "Multikey", "controller": did, "publicKeyMultibase": public.multikey},
        {"id": ids[1], "type": "Ed25519VerificationKey2020", "controller": did, "publicKeyMultibase": public.multikey},
        {"id": ids[2], "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": public.jwk},
    ]
    assert document[ASSERTION] == ids
    assert document[AUTHENTICATION] == ids
    for method_id in ids:
        assert DidResolver({did: document}).verification_method(method_id, ASSERTION).public_key.raw == public.raw


@pytest.mark.parametrize("domain", ["", "example.com/path", "exa mple.com"])
def test_did_web_domain_must_be_host_and_colon_path(domain: str) -> None:
    raises_code(ErrorCode.USAGE, lambda: did_web_from_domain(domain))


def test_did_web_document_needs_a_key_and_a_did_web() -> None:
    raises_code(ErrorCode.USAGE, lambda: did_web_document(WEB_DID, []))
    raises_code(ErrorCode.DID_INVALID, lambda: did_web_document("did:key:z6Mk", [KeyPair.generate().public]))


def test_did_web_is_resolved_only_from_the_local_store(
    tmp_path: Path, no_network: list[tuple[Any, ...]]
) -> None:
    public = KeyPair.generate().public
    document = did_web_document(WEB_DID, [public])
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "did.json").write_text(json.dumps(document))

    error = raises_code(ErrorCode.DID_UNRESOLVED, lambda: DidResolver().resolve(WEB_DID))
    assert error.detail == {"did": WEB_DID}
    assert DidResolver.from_directory(tmp_path).resolve(WEB_DID) == document
    assert DidResolver().with_documents({WEB_DID: document}).resolve(WEB_DID) == document
    assert no_network == []


@pytest.mark.parametrize(
    ("content", "code"),
    [("not json", ErrorCode.DID_INVALID), ('{"no": "id"}', ErrorCode.DID_INVALID), ("[]", ErrorCode.DID_INVALID)],
)
def test_did_store_refuses_what_is_not_a_did_document(content: str, code: ErrorCode, tmp_path: Path) -> None:
    (tmp_path / "did.json").write_text(content)

    raises_code(code, lambda: load_did_store(tmp_path))


def test_did_store_must_be_a_directory(tmp_path: Path) -> None:
    raises_code(ErrorCode.USAGE, lambda: load_did_store(tmp_path / "missing"))


def web_issuer(key: KeyPair) -> Issuer:
    return Issuer.from_key(key, WEB_DID)


def verify_with(document: dict[str, Any], secured: Any, now: Any) -> Any:
    return Verifier(resolver=DidResolver({WEB_DID: document}), now=now).verify_credential(secured)


@pytest.mark.parametrize("proof_format", list(ProofFormat))
def test_did_web_credential_verifies_with_the_stored_document_only(
    proof_format: ProofFormat, issue: Any, now: Any
) -> None:
    key = KeyPair.generate(key_type_for(proof_format))
    issuer = web_issuer(key)
    secured = issue(proof_format, issuer=issuer)

    assert verify_with(issuer.did_document(), secured, now).valid
    unresolved = Verifier(now=now).verify_credential(secured)
    assert unresolved.valid is False
    assert unresolved.error_codes == ["RUNID_DID_UNRESOLVED"]


@pytest.mark.parametrize("proof_format", [ProofFormat.DI, ProofFormat.JOSE])
def test_key_rotation_old_key_verifies_while_listed_and_not_after_removal(
    proof_format: ProofFormat, issue: Any, now: Any
) -> None:
    old, new = KeyPair.generate(), KeyPair.generate()
    signed_by_old = issue(proof_format, issuer=web_issuer(old))
    signed_by_new = issue(proof_format, issuer=web_issuer(new))
    both = did_web_document(WEB_DID, [old.public, new.public])
    rotated = did_web_document(WEB_DID, [new.public])

    assert verify_with(both, signed_by_old, now).valid
    assert verify_with(both, signed_by_new, now).valid

    after = verify_with(rotated, signed_by_old, now)
    assert after.valid is False
    assert after.error_codes == ["RUNID_VERIFICATION_METHOD_NOT_FOUND"]
    assert verify_with(rotated, signed_by_new, now).valid


def without_assertion(document: dict[str, Any], vm_id: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed[ASSERTION] = [ref for ref in changed[ASSERTION] if ref != vm_id]
    return changed


@pytest.mark.parametrize("proof_format", [ProofFormat.DI, ProofFormat.JOSE])
def test_method_listed_but_not_in_assertion_method_is_not_authorized(
    proof_format: ProofFormat, issue: Any, now: Any
) -> None:
    signer, other = KeyPair.generate(), KeyPair.generate()
    issuer = web_issuer(signer)
    secured = issue(proof_format, issuer=issuer)
    method = issuer.method_for(proof_format)  # JOSE names the key's JsonWebKey2020 listing
    document = without_assertion(did_web_document(WEB_DID, [signer.public, other.public]), method)
    assert method in json.dumps(document["verificationMethod"])
    assert method in document[AUTHENTICATION]

    report = verify_with(document, secured, now)

    assert report.valid is False
    assert report.error_codes == ["RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"]


def test_relative_method_references_in_a_did_document_are_resolved_against_the_did(
    issue: Any, now: Any
) -> None:
    key = KeyPair.generate()
    issuer = web_issuer(key)
    document = did_web_document(WEB_DID, [key.public])
    fragment = "#" + key.public.multikey
    document["verificationMethod"][0]["id"] = fragment
    document[ASSERTION] = [fragment]

    assert verify_with(document, issue(ProofFormat.DI, issuer=issuer), now).valid


# A local DID document is still input: a malformed one must give a report, never an exception.
MALFORMED_DOCUMENTS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("verificationMethod not a list", lambda d: d.update(verificationMethod=5), "RUNID_DID_INVALID"),
    ("assertionMethod not a list", lambda d: d.update(assertionMethod=5), "RUNID_DID_INVALID"),
    ("assertionMethod a string", lambda d: d.update(assertionMethod=d["assertionMethod"][0]), "RUNID_DID_INVALID"),
    ("no verificationMethod", lambda d: d.pop("verificationMethod"), "RUNID_VERIFICATION_METHOD_NOT_FOUND"),
    ("unsupported method type", lambda d: d["verificationMethod"][0].update(type="RsaKey"), "RUNID_VERIFICATION_METHOD_NOT_FOUND"),
    ("key not multibase", lambda d: d["verificationMethod"][0].update(publicKeyMultibase=5), "RUNID_KEY_INVALID"),
    ("another controller", lambda d: d["verificationMethod"][0].update(controller="did:web:evil.example"), "RUNID_VERIFICATION_METHOD_NOT_AUTHORIZED"),
    ("private JWK exposed", lambda d: d["verificationMethod"][0].update(type="JsonWebKey2020", publicKeyJwk={"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "AAAA"}), "RUNID_DID_INVALID"),
]


@pytest.mark.parametrize(("mutation", "code"), [(m, c) for _, m, c in MALFORMED_DOCUMENTS], ids=[i for i, _, _ in MALFORMED_DOCUMENTS])
def test_malformed_did_document_fails_verification_with_its_code(
    mutation: Callable[[dict[str, Any]], Any], code: str, issue: Any, now: Any
) -> None:
    key = KeyPair.generate()
    issuer = web_issuer(key)
    secured = issue(ProofFormat.DI, issuer=issuer)
    document = issuer.did_document()
    mutation(document)

    report = verify_with(document, secured, now)

    assert report.valid is False
    assert report.error_codes == [code]


def test_a_stored_document_that_is_not_an_object_fails_verification(issue: Any, now: Any) -> None:
    issuer = web_issuer(KeyPair.generate())

    report = Verifier(resolver=DidResolver({WEB_DID: []}), now=now).verify_credential(  # type: ignore[dict-item]
        issue(ProofFormat.DI, issuer=issuer)
    )

    assert report.error_codes == ["RUNID_DID_INVALID"]


# --- a did:key's method is dereferenced once, unless resolution is someone else's ------------


def test_a_did_key_method_is_dereferenced_once_and_shared_read_only() -> None:
    issuer = Issuer.generate()
    vm_url = f"{issuer.did}#{issuer.did.removeprefix('did:key:')}"
    first = DidResolver().verification_method(vm_url, ASSERTION)
    assert DidResolver().verification_method(vm_url, ASSERTION) is first  # remembered
    assert first.public_key == issuer.key.public  # and right
    # The documents handed out are still copies: altering one changes no later answer.
    resolve_did_key(issuer.did)["verificationMethod"].clear()
    assert DidResolver().verification_method(vm_url, ASSERTION) == first
    with pytest.raises(RunIdError) as caught:  # a refusal is not remembered as an answer
        DidResolver().verification_method(vm_url, "keyAgreement")
    assert caught.value.code is ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED


def _revoked_did_key(did: str) -> dict[str, Any]:
    document = resolve_did_key(did)
    document[ASSERTION] = []
    return document


def test_a_resolver_that_resolves_did_keys_itself_is_asked_every_time() -> None:
    # A subclass, an instance attribute or a patched class method: each decides did:key itself.
    issuer = Issuer.generate()
    vm_url = f"{issuer.did}#{issuer.did.removeprefix('did:key:')}"
    DidResolver().verification_method(vm_url, ASSERTION)  # the built-in answer is remembered

    class Revoking(DidResolver):
        def resolve(self, did: str) -> dict[str, Any]:
            return _revoked_did_key(did)

    per_instance = DidResolver()
    per_instance.resolve = _revoked_did_key  # type: ignore[method-assign]
    for resolver in (Revoking(), per_instance):
        with pytest.raises(RunIdError) as caught:
            resolver.verification_method(vm_url, ASSERTION)
        assert caught.value.code is ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED
    with mock.patch.object(DidResolver, "resolve", lambda self, did: _revoked_did_key(did)):
        with pytest.raises(RunIdError) as caught:
            DidResolver().verification_method(vm_url, ASSERTION)
        assert caught.value.code is ErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED
