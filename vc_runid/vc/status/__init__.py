"""Bitstring Status List v1.0: revocation entries, status list credentials, and fetching them on request."""
