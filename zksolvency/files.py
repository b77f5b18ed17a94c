"""Writing files whole or not at all: a temporary file beside the target, synced, then renamed over it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    """Where derived, re-computable data is kept (``ZKSOLVENCY_CACHE_DIR``, default ``~/.cache/zksolvency``)."""
    return Path(os.environ.get("ZKSOLVENCY_CACHE_DIR") or Path.home() / ".cache" / "zksolvency")


def write_atomic(path, *parts) -> None:
    """Write the parts (bytes-like, or str as UTF-8) to ``path``; on any failure nothing is left behind."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part.encode("utf-8") if isinstance(part, str) else part)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
