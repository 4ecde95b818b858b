"""A tiny, deterministic local language model shipped for the demo: a word-bigram table.

It is real in the ways that matter to vc-runid — it loads weights from files (which the demo
hashes into the declaration) and its output depends only on weights, prompt and parameters — and
small enough to run anywhere with no download.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_ID = "vc-runid-demo-bigram-1"


class BigramModel:
    """The demo's toy word-bigram model, deterministic, loaded from its weights files."""

    def __init__(self, weights_dir: Path = WEIGHTS_DIR) -> None:
        config = json.loads((weights_dir / "config.json").read_text())
        if config.get("format") != "vc-runid-demo-bigram":
            raise ValueError(f"{weights_dir} does not hold demo bigram weights")
        self.table: dict[str, dict[str, int]] = json.loads((weights_dir / "bigrams.json").read_text())

    def generate(self, prompt: str, *, max_tokens: int = 24, temperature: float = 0.0, seed: int = 0) -> str:
        rng = random.Random(seed)
        words = [w for w in prompt.lower().replace("?", " ").split() if w in self.table]
        current = words[-1] if words else "the"
        out: list[str] = []
        for _ in range(max_tokens):
            successors = self.table.get(current)
            if not successors:
                break
            if temperature <= 0:
                current = max(sorted(successors), key=lambda w: successors[w])
            else:
                choices = sorted(successors)
                weights = [successors[w] ** (1.0 / temperature) for w in choices]
                current = rng.choices(choices, weights=weights)[0]
            out.append(current)
            if current == ".":
                break
        return " ".join(out).replace(" .", ".")
