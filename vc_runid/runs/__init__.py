"""The run domain: composition, digests, declaration, binding, their verification, and running code under a declaration."""
