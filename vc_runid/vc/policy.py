"""Trust policies: a VALID run verdict means "signed by someone I trust".

A signature says *who* signed; only the caller can say whether that signer counts. Every run
verdict is therefore taken under a :class:`TrustPolicy` the caller passes in — the issuers it
trusts, the transparency logs (origin + key) it pins, whether the declaration must be proven in
one of them, and whether the declaring party must be independent of the executor it names. There
is no default: a run verified without a policy is not valid (``RUNID_TRUST_POLICY_MISSING``). The
one policy that trusts any issuer is :meth:`TrustPolicy.unsafe_any_issuer`, named as such in every
report it is used for.

A policy file (``--trust FILE``, JSON or YAML)::

    issuers: [did:key:z6Mk...]          # DIDs whose declarations and bindings count
    domains: [runs.example.com]         # did:web:runs.example.com and its paths
    logs:                               # C2SP signed-note verifier keys of trusted logs
      - origin: runs.example.com/log
        key: runs.example.com/log+abcd1234+AY...
    requireLogInclusion: true           # the declaration must be in one of those logs
    requireIndependence: true           # the declaration's issuer is not its executor (default)
    witnesses: [{name: w1.example, key: w1.example+0123abcd+AY...}]
    witnessQuorum: 1                    # checkpoints need this many of those cosignatures
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ErrorCode, RunIdError, TrustError

if TYPE_CHECKING:
    from ..transparency.cosignature import Witness

__all__ = ["LogKey", "TrustPolicy", "WitnessKey"]

#: Largest policy file read, in bytes.
MAX_POLICY_BYTES = 1 << 16


def _canonical_did(did: str) -> str:
    """A DID as the identifier it names: no fragment or query (a DID URL names a part of the
    DID's document, not another party), the scheme and method in lower case (RFC 3986 §3.1,
    DID Core §3.1), and for did:web the host in lower case with the default port dropped
    (did:web §3.1: the host is a DNS name; ``%3A443`` resolves to the same document)."""
    bare = did.split("#", 1)[0].split("?", 1)[0]
    parts = bare.split(":", 2)
    if len(parts) < 3:
        return bare
    scheme, method, specific = parts[0].lower(), parts[1].lower(), parts[2]
    if method == "web":
        host, _, path = specific.partition(":")
        host = host.lower().replace("%3a", ":").removesuffix(":443")
        specific = host.replace(":", "%3A") + (f":{path}" if path else "")
    return f"{scheme}:{method}:{specific}"


def same_did(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` (DIDs or DID URLs) name the same DID."""
    return _canonical_did(a) == _canonical_did(b)


def _did_key_multikey(did: str) -> str | None:
    canonical = _canonical_did(did)
    return canonical.removeprefix("did:key:") if canonical.startswith("did:key:") else None


def _strict_yaml_loader() -> type:
    """PyYAML's SafeLoader, refusing a repeated key (which it would let the last one win: a
    policy reviewed as strict could be relaxed by a second line further down)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    continue  # an unhashable key: SafeLoader refuses it itself
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def _invalid(message: str) -> TrustError:
    return TrustError(message, code=ErrorCode.TRUST_POLICY_INVALID)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LogKey(_Strict):
    """A transparency log the caller trusts: its origin line and its signed-note verifier key."""

    origin: str
    key: str

    @model_validator(mode="after")
    def _valid_key(self) -> LogKey:
        # The log modules are imported by a policy that names a log, not by every verification.
        from ..transparency.checkpoint import parse_vkey

        try:
            name, _ = parse_vkey(self.key)
        except RunIdError as exc:
            raise ValueError(f"log key for {self.origin}: {exc.message}") from exc
        if not self.origin or "\n" in self.origin:
            raise ValueError("a log origin is one non-empty line")
        del name
        return self


class WitnessKey(_Strict):
    """A witness (c2sp.org/tlog-witness) whose cosignatures count toward the quorum."""

    name: str
    key: str

    @model_validator(mode="after")
    def _valid_key(self) -> WitnessKey:
        # A cosigner vkey (type 0x04, c2sp.org/tlog-cosignature), as `vc-runid witness vkey` prints.
        from ..transparency.cosignature import parse_witness_vkey

        try:
            witness = parse_witness_vkey(self.key)
        except RunIdError as exc:
            raise ValueError(f"witness key for {self.name}: {exc.message}") from exc
        if witness.name != self.name:
            raise ValueError(f"witness key for {self.name}: the key is named {witness.name!r}")
        return self

    def witness(self) -> Witness:
        from ..transparency.cosignature import parse_witness_vkey

        return parse_witness_vkey(self.key)


class TrustPolicy(_Strict):
    """Whom and what a verifier trusts. Build one with :meth:`trusting`, :meth:`from_file` or
    the constructor; the empty policy trusts nobody."""

    issuers: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    logs: tuple[LogKey, ...] = ()
    require_log_inclusion: bool = Field(False, alias="requireLogInclusion")
    require_independence: bool = Field(True, alias="requireIndependence")
    witnesses: tuple[WitnessKey, ...] = ()
    witness_quorum: int = Field(0, alias="witnessQuorum", ge=0)
    #: Set only by :meth:`unsafe_any_issuer`: never read from a file.
    any_issuer: bool = Field(False, exclude=True)

    @field_validator("issuers")
    @classmethod
    def _dids(cls, issuers: tuple[str, ...]) -> tuple[str, ...]:
        for did in issuers:
            if not (isinstance(did, str) and did.startswith("did:") and did.count(":") >= 2 and "#" not in did):
                raise ValueError(f"{did!r} is not a DID (a trusted issuer is a DID such as did:key:z6Mk...)")
        return issuers

    @field_validator("domains")
    @classmethod
    def _domains(cls, domains: tuple[str, ...]) -> tuple[str, ...]:
        for domain in domains:
            if not domain or any(c in domain for c in "/:# ") or domain != domain.lower():
                raise ValueError(f"{domain!r} is not a lower-case host name (e.g. runs.example.com)")
        return domains

    @model_validator(mode="after")
    def _quorum(self) -> TrustPolicy:
        if self.witness_quorum > len(self.witnesses):
            raise ValueError(f"witnessQuorum {self.witness_quorum} is more than the {len(self.witnesses)} witnesses named")
        if self.require_log_inclusion and not self.logs:
            raise ValueError("requireLogInclusion needs at least one trusted log in logs")
        return self

    # --- construction ------------------------------------------------------------------------

    @classmethod
    def trusting(cls, *issuers: str, **options: Any) -> TrustPolicy:
        """A policy trusting exactly these issuer DIDs (and ``options`` as in a policy file)."""
        return cls.from_dict({"issuers": list(issuers), **options})

    @classmethod
    def unsafe_any_issuer(cls) -> TrustPolicy:
        """UNSAFE: accept a run signed by anyone. For exploring, never for an audit: anyone with a
        fresh did:key can produce a pair this policy accepts."""
        return cls.model_validate({"any_issuer": True, "requireIndependence": False})

    @classmethod
    def from_dict(cls, data: Any) -> TrustPolicy:
        if not isinstance(data, dict):
            raise _invalid("a trust policy is a JSON/YAML object")
        if "any_issuer" in data or "anyIssuer" in data:
            raise _invalid("a policy file cannot trust any issuer; use --any-issuer on the command line to explore")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "policy"
            raise _invalid(f"{where}: {first['msg']}") from exc

    @classmethod
    def from_file(cls, path: Path) -> TrustPolicy:
        """Read a policy from a JSON or YAML file (strict: unknown fields are refused)."""
        from .._internal.files import read_limited
        from .documents import parse_json

        try:
            raw = read_limited(path, MAX_POLICY_BYTES)
        except RunIdError as exc:
            raise _invalid(f"cannot read the trust policy {path}: {exc.message}") from exc
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            try:
                data = yaml.load(raw, Loader=_strict_yaml_loader())  # a SafeLoader subclass
            except (yaml.YAMLError, UnicodeDecodeError) as exc:
                raise _invalid(f"{path} is not YAML: {exc}") from exc
        else:
            try:
                data = parse_json(raw)
            except RunIdError as exc:
                raise _invalid(f"{path}: {exc.message}") from exc
        return cls.from_dict(data)

    def with_issuers(self, issuers: Iterable[str]) -> TrustPolicy:
        """This policy, trusting ``issuers`` too (``--trusted-issuer`` beside ``--trust``)."""
        merged = tuple(dict.fromkeys([*self.issuers, *issuers]))
        return TrustPolicy.from_dict({**self.model_dump(by_alias=True), "issuers": list(merged)})

    # --- decisions ---------------------------------------------------------------------------

    def describe(self) -> str:
        """One line naming the policy, for every report it was applied in."""
        if self.any_issuer:
            return "UNSAFE: any issuer (--any-issuer); the signer was not checked against a trust policy"
        parts = []
        if self.issuers:
            parts.append("issuers " + ", ".join(self.issuers))
        if self.domains:
            parts.append("did:web domains " + ", ".join(self.domains))
        if self.logs:
            parts.append("logs " + ", ".join(f"{log.origin} ({log.key.split('+')[1]})" for log in self.logs))
        if self.require_log_inclusion:
            parts.append("log inclusion required")
        if self.require_independence:
            parts.append("independent declarer required")
        if self.witness_quorum:
            parts.append(f"{self.witness_quorum} of {len(self.witnesses)} witnesses")
        return "; ".join(parts) if parts else "trusts nobody"

    def trusts_issuer(self, did: str | None) -> bool:
        if self.any_issuer:
            return True
        if not did:
            return False
        if did in self.issuers:
            return True
        if did.startswith("did:web:"):
            host = did.removeprefix("did:web:").split(":", 1)[0].replace("%3A", ":").lower()
            return host in self.domains
        return False

    def check_issuer(self, did: str | None) -> str:
        if not self.trusts_issuer(did):
            raise TrustError(
                f"issuer {did} is not trusted by the policy ({self.describe()})",
                code=ErrorCode.ISSUER_NOT_TRUSTED,
                detail={"issuer": did},
            )
        return f"{did} is trusted" if not self.any_issuer else "UNSAFE: any issuer accepted"

    def check_independence(self, issuer: str | None, executor: str | None, issuer_keys: Iterable[str] = ()) -> str:
        """``issuer_keys``: the multikeys the issuer's DID lists, so that an executor naming
        itself by the did:key of the very key that signed is not taken for another party."""
        if not self.require_independence:
            return "independence not required by the policy"
        if executor is not None and issuer is not None and (
            same_did(executor, issuer) or _did_key_multikey(executor) in set(issuer_keys)
        ):
            raise TrustError(
                f"the declaration was signed by {issuer}, the executor it names: a run cannot vouch for itself",
                code=ErrorCode.NOT_INDEPENDENT,
            )
        return f"declared by {issuer}, not by the executor {executor}" if executor else f"declared by {issuer}; no executor named"
