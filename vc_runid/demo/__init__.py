"""`vc-runid demo`: the whole job on the embedded default, with a bundled toy model."""
