"""A small filesystem of the test's own (tmpfs, mounted as root), to fill up: the agent on a full disk."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.kit.require import service_missing


@contextlib.contextmanager
def small_disk(path: Path, *, size_kib: int) -> Iterator[Path]:
    """Mount a tmpfs of `size_kib` KiB at `path` for the block; unmount after (lazily, if a process holds it)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        service_missing("root, to mount a small tmpfs (the full-disk tests)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "hazmon-test", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        service_missing(f"mounting a tmpfs ({done.stderr.strip()})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path: Path) -> int:
    """Write `path` until the filesystem under it is full; returns how many bytes it took."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n = f.write(b"\0" * 4096)
                written += n or 0
                if not n:
                    break
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return written
