"""Files in and out: inputs read with one clean error naming the file; atomic writes, so outputs
appear whole or not at all, never replace raw data by accident, and one run at a time writes an
output folder."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ndp.errors import FileFormatError, NdpError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary file lives in the same folder, so the final rename is atomic; on any error
    (or Ctrl-C) it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        share_as_umask(tmp_path)
        os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
    return Path(path)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def share_as_umask(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Give ``path`` the permissions a plain ``open``/``mkdir`` would have given it.

    ``tempfile`` makes its files 0600 and folders 0700 (private, as temporaries must be); an
    output renamed into place keeps them, and collaborators could not read it.
    """
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


# --------------------------------------------------------------------------------------------
# Output folders: one writer at a time, swapped in whole, leftovers of killed runs recovered.

#: Locks this process holds, by output folder: a run that died before writing still holds its
#: lock, and the same process (a notebook) running again takes it over.
_HELD: dict[str, OutputLock] = {}


class OutputLock:
    """An exclusive lock on an output folder, held through a lock file beside it.

    The lock file (``.<name>.lock``) exists while the lock is held. The operating system
    releases the lock when the process ends, however it ends, so a killed run never leaves a
    folder locked (only, at worst, an empty lock file the next run reuses).
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.path = out_dir.with_name(f".{out_dir.name}.lock")
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        key = str(self.out_dir)
        if key in _HELD:
            _HELD.pop(key).release()
        for _ in range(20):
            try:
                self.out_dir.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
            except OSError as exc:
                raise NdpError(
                    f"{self.out_dir}: cannot write the output folder there ({exc.strerror or exc})"
                ) from None
            try:
                _lock_fd(fd)
            except OSError:
                os.close(fd)
                raise NdpError(
                    f"{self.out_dir}: another ndp run is writing into this folder now; wait for it "
                    "to finish or choose another --output"
                ) from None
            # The holder before us removes the file as it lets go: a lock on a removed file
            # locks nothing, so take it again on the file that is there now.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                _HELD[key] = self
                return self
            os.close(fd)
        raise NdpError(
            f"{self.out_dir}: could not lock the output folder (its lock file keeps changing)"
        )

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()  # while still held, so nobody locks a file on its way out
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
        if _HELD.get(str(self.out_dir)) is self:
            del _HELD[str(self.out_dir)]

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __del__(self):
        self.release()


@atexit.register
def _release_all() -> None:
    # A run that failed between taking its lock and writing: let go (and tidy) on the way out.
    for lock in list(_HELD.values()):
        lock.release()


def _lock_fd(fd: int) -> None:
    """Take an exclusive, non-blocking lock on an open file; OSError if someone holds it."""
    try:
        import fcntl  # POSIX only
    except ImportError:  # Windows
        import msvcrt  # Windows only

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def held_lock(out_dir: str | os.PathLike) -> OutputLock | None:
    """The lock this process holds on ``out_dir`` (from :func:`lock_output`), if any."""
    return _HELD.get(str(out_dir))


def lock_output(out_dir: str | os.PathLike) -> OutputLock:
    """Lock ``out_dir`` for writing and tidy what killed runs left beside it.

    Under the lock no other run is writing, so a ``.<name>.XXXXXXXX`` build folder beside it is
    a killed run's and is removed, and a ``.<name>.old`` left by a kill between the two renames
    of the swap is put back when ``out_dir`` itself is missing (removed when it is not).

    Raises
    ------
    NdpError
        When another process holds the lock.
    """
    out_dir = Path(out_dir)
    lock = OutputLock(out_dir).acquire()
    parent, name = out_dir.parent, out_dir.name
    stale = re.compile(rf"^\.{re.escape(name)}\.[A-Za-z0-9_]{{8}}$")
    for p in parent.iterdir():
        if stale.match(p.name) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
    old = parent / f".{name}.old"
    if old.is_dir() and not old.is_symlink():
        if not out_dir.exists() and not out_dir.is_symlink():
            old.rename(out_dir)  # the previous results, interrupted in the middle of a swap
        else:
            shutil.rmtree(old, ignore_errors=True)
    return lock


def publish_folder(out_dir: str | os.PathLike, build, *, lock: OutputLock | None = None) -> Path:
    """Build a folder beside ``out_dir`` with ``build(tmp_path)`` and swap it in whole.

    Parameters
    ----------
    out_dir : path-like
        The folder to create or replace (the caller checked it may be replaced).
    build : callable
        Writes every output into the temporary folder it is given.
    lock : OutputLock, optional
        The lock taken by :func:`lock_output` when the run started; taken here otherwise.
        Released when done, whatever happens.
    """
    out_dir = Path(out_dir)
    lock = lock if lock is not None and lock.held else lock_output(out_dir)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        try:
            build(tmp)
            share_as_umask(tmp, folder=True)
            old = None
            if out_dir.exists() or out_dir.is_symlink():
                old = out_dir.with_name(f".{out_dir.name}.old")
                out_dir.rename(old)
            tmp.rename(out_dir)
            if old is not None:
                if old.is_symlink():
                    old.unlink()
                else:
                    shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        lock.release()
    return out_dir


def read_bytes(path: str | os.PathLike, size: int = -1) -> bytes:
    """The file's bytes (the first ``size``, or all), or a FileFormatError naming the problem."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(size)
    except IsADirectoryError:
        raise FileFormatError(path, "is a folder, expected a file") from None
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror})") from None
    if not raw.strip():
        raise FileFormatError(path, "the file is empty")
    return raw
