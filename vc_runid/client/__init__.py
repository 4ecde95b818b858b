"""A client for the vc-runid issuer service."""
