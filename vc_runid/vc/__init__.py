"""The Verifiable Credentials engine: documents, keys, DIDs, proofs, JOSE, status lists, presentations, verification and trust policy.

It knows nothing of runs, stores or shells.
"""
