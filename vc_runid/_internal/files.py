"""The one way vc-runid reads a file it is asked to verify: a regular file, at most a bounded size.

Paths come from users and from directory scans (``audit DIR``, ``--did-store``), so a path may
name a FIFO (``open`` would wait for a writer forever), a device such as ``/dev/zero`` (endless),
or a file of gigabytes. Each is refused before more than ``limit + 1`` bytes are read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import ErrorCode, InputError, UsageError

_CHUNK = 1 << 16


def read_limited(path: Path, limit: int | None) -> bytes:
    """The bytes of the regular file ``path``; ``RUNID_INPUT_TOO_LARGE`` past ``limit`` bytes.

    ``RUNID_FILE_UNREADABLE`` when it cannot be opened or is not a regular file. ``limit=None``
    only for files whose size is legitimately unbounded (a run's output), which still must be
    regular files.
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise block until a writer appears; with
    # it the open returns at once and the fstat below refuses it. It has no effect on regular files.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}", code=ErrorCode.FILE_UNREADABLE) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise UsageError(f"cannot read {path}: it is {kind}", code=ErrorCode.FILE_UNREADABLE)
        if limit is not None and info.st_size > limit:
            raise _too_large(path, info.st_size, limit)
        # st_size is only a hint (the file may grow while we read), so the read itself is bounded.
        wanted = None if limit is None else limit + 1
        chunks: list[bytes] = []
        total = 0
        while wanted is None or total < wanted:
            chunk = os.read(fd, _CHUNK if wanted is None else min(_CHUNK, wanted - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if limit is not None and total > limit:
            raise _too_large(path, total, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}", code=ErrorCode.FILE_UNREADABLE) from exc
    finally:
        os.close(fd)


def _too_large(path: Path, size: int, limit: int) -> InputError:
    at_least = "at least " if size == limit + 1 else ""
    return InputError(
        f"{path} is {at_least}{size} bytes; the limit is {limit} bytes",
        code=ErrorCode.INPUT_TOO_LARGE,
        detail={"limit": limit},
    )
