"""The compatibility matrix of vc-runid with the wallets people use, as measured by
``tests/interop/test_wallets.py`` and printed in docs/formats.md.

``EXPECTED`` is what the tests require of every peer run: a cell that changes (a peer gains or
loses a format) fails the tests until this table, and with it the documentation (``render``,
checked by ``test_formats_doc_table_is_the_measured_matrix``), is updated. Regenerate the
documented table with ``python -m tests.interop.wallet_matrix``.
"""

from __future__ import annotations

from typing import Final

PEERS: Final = {
    "credo": "Credo 0.6.3",
    "veramo": "Veramo 7.0.1",
    "acapy": "ACA-Py 1.7.0",
    "jose": "jose 6.2.19",
}

#: Format → which way it travels, per peer: ``peer`` = the peer verifies vc-runid's credential,
#: ``runid`` = vc-runid verifies the peer's. ``True`` verifies (and a one-character tamper is
#: refused, which the tests check whenever the untampered one verifies), ``False`` is refused,
#: ``None`` = the peer does not offer that direction for the format (nothing to measure).
EXPECTED: Final[dict[str, dict[str, dict[str, bool | None]]]] = {
    "di": {  # VC 2.0 + eddsa-rdfc-2022, the standard profile
        "credo": {"peer": False, "runid": None},
        "veramo": {"peer": False, "runid": None},
        "acapy": {"peer": False, "runid": None},
        "jose": {"peer": None, "runid": None},
    },
    "di-2020": {  # VC 1.1 + Ed25519Signature2020, the compatible profile
        "credo": {"peer": False, "runid": True},
        "veramo": {"peer": True, "runid": True},
        "acapy": {"peer": True, "runid": True},
        "jose": {"peer": None, "runid": None},
    },
    "di-2020 did:web": {  # the same, issued as a did:web (Ed25519VerificationKey2020 listing)
        "credo": {"peer": True, "runid": None},
        "veramo": {"peer": True, "runid": None},
        "acapy": {"peer": True, "runid": None},
        "jose": {"peer": None, "runid": None},
    },
    "eddsa-jcs": {  # VC 2.0 + eddsa-jcs-2022
        "credo": {"peer": False, "runid": None},
        "veramo": {"peer": False, "runid": None},
        "acapy": {"peer": True, "runid": True},
        "jose": {"peer": None, "runid": None},
    },
    "ecdsa": {  # VC 2.0 + ecdsa-rdfc-2019, P-256
        "credo": {"peer": False, "runid": None},
        "veramo": {"peer": False, "runid": None},
        "acapy": {"peer": False, "runid": None},
        "jose": {"peer": None, "runid": None},
    },
    "jose": {  # VC 2.0 + VC-JOSE (application/vc+jwt)
        "credo": {"peer": True, "runid": None},
        "veramo": {"peer": False, "runid": None},
        "acapy": {"peer": None, "runid": None},
        "jose": {"peer": True, "runid": True},
    },
    "jose did:web": {  # the same, issued as a did:web (kid: the JsonWebKey2020 listing)
        "credo": {"peer": True, "runid": None},
        "veramo": {"peer": False, "runid": None},
        "acapy": {"peer": None, "runid": None},
        "jose": {"peer": True, "runid": None},
    },
    "jwt-1.1": {  # VC 1.1 as a JWT (vc claim)
        "credo": {"peer": True, "runid": True},
        "veramo": {"peer": True, "runid": True},
        "acapy": {"peer": None, "runid": None},
        "jose": {"peer": True, "runid": True},
    },
    "jwt-1.1 did:web": {
        "credo": {"peer": True, "runid": None},
        "veramo": {"peer": True, "runid": None},
        "acapy": {"peer": None, "runid": None},
        "jose": {"peer": True, "runid": None},
    },
}

#: Run credentials (declaration + binding, project context from contexts/): does the peer verify
#: both, and refuse the declaration with one digest character changed?
RUNS_EXPECTED: Final[dict[str, dict[str, bool | None]]] = {
    "di": {"credo": False, "veramo": False, "acapy": False, "jose": None},
    "di-2020": {"credo": False, "veramo": True, "acapy": True, "jose": None},
    "di-2020 did:web": {"credo": True, "veramo": True, "acapy": True, "jose": None},
    "jwt-1.1": {"credo": True, "veramo": True, "acapy": None, "jose": True},
}

#: Peer-signed run declarations (the peer signs vc-runid's unsigned declaration): does vc-runid
#: verify them, and refuse the tampered one?
PEER_DECLARATIONS_EXPECTED: Final[dict[str, dict[str, bool | None]]] = {
    "di-2020": {"credo": True, "veramo": True, "acapy": True, "jose": None},
    "jwt-1.1": {"credo": True, "veramo": True, "acapy": None, "jose": True},
}


def _cell(value: bool | None) -> str:
    return {True: "✅", False: "❌", None: "—"}[value]


def reach(fmt: str) -> int:
    """How many cells of the matrix a format verifies in: both directions, credentials and runs,
    issued as did:key or did:web."""
    rows = [row for name, row in EXPECTED.items() if name.split(" ")[0] == fmt]
    cells = [v for row in rows for peer in row.values() for v in peer.values()]
    for table in (RUNS_EXPECTED, PEER_DECLARATIONS_EXPECTED):
        cells += [v for name, row in table.items() if name.split(" ")[0] == fmt for v in row.values()]
    return sum(1 for v in cells if v)


def widest_reach() -> str:
    """The format the ``compatible`` profile must use: the one with the most ✅ cells."""
    return max(EXPECTED, key=lambda name: reach(name.split(" ")[0])).split(" ")[0]


def render() -> str:
    """The Markdown table docs/formats.md carries between its matrix markers."""
    peers = list(PEERS)
    lines = [
        "| format | " + " | ".join(f"{PEERS[p]}: verifies ours / we verify theirs" for p in peers) + " |",
        "|---|" + "---|" * len(peers),
    ]
    for fmt, row in EXPECTED.items():
        cells = [f"{_cell(row[p]['peer'])} / {_cell(row[p]['runid'])}" for p in peers]
        lines.append(f"| `{fmt}` credential | " + " | ".join(cells) + " |")
    for fmt, runs in RUNS_EXPECTED.items():
        cells = []
        for p in peers:
            theirs = PEER_DECLARATIONS_EXPECTED.get(fmt, {}).get(p)
            cells.append(f"{_cell(runs[p])} / {_cell(theirs)}")
        lines.append(f"| `{fmt}` run (declaration + binding) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
