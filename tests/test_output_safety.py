"""Output folders: one writer at a time, leftovers of killed runs cleaned or recovered, links
resolved before the "never write into the inputs" check, permissions from the umask (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.errors import NdpError
from ndp.fileio import atomic_write, lock_output, publish_folder

runner = CliRunner()

HOLD = """
import sys, time
from ndp.fileio import lock_output
lock = lock_output(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def held(tmp_path):
    """The output folder tmp_path/out, locked by another process (as a running ndp run holds it)."""
    out = tmp_path / "out"
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout.readline().strip() == "locked"
            yield out
        finally:
            proc.kill()


def test_a_second_writer_is_refused(held):
    with pytest.raises(NdpError, match="another ndp run is writing into this folder now"):
        lock_output(held)


def test_a_second_ndp_run_exits_2_with_one_line(held, run_dir):
    """Two `ndp run` into one -o: both exited 0 and the later silently replaced the other."""
    r = runner.invoke(app, ["run", str(run_dir / "run.toml"), "-o", str(held), "--no-figures"])
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and "another ndp run is writing into this folder" in r.stderr
    assert not held.exists()


def test_the_lock_goes_with_its_holder(tmp_path):
    out = tmp_path / "out"
    publish_folder(out, lambda tmp: (tmp / "a.txt").write_text("1"))
    assert (out / "a.txt").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no lock file, no temporaries
    lock_output(out).release()  # free again
    lock_output(out)  # a run of this process that died holding it: taken over, not refused
    lock_output(out).release()


def test_stale_temporaries_are_cleaned(tmp_path):
    """SIGKILL left a hidden .out.XXXXXXXX of 14 MB behind."""
    stale = tmp_path / ".out.k2j4_x9a"
    stale.mkdir()
    (stale / "profiles.nc").write_bytes(b"\0" * 1000)
    other = tmp_path / ".outer.k2j4_x9a"  # another folder's temporaries are not ours
    other.mkdir()
    lock_output(tmp_path / "out").release()
    assert not stale.exists() and other.exists()


def test_an_interrupted_swap_is_recovered(tmp_path):
    """A kill between the two renames left no out/ and the old results hidden in .out.old."""
    old = tmp_path / ".out.old"
    old.mkdir()
    (old / "profiles.nc").write_text("previous results")
    lock_output(tmp_path / "out").release()
    assert (tmp_path / "out" / "profiles.nc").read_text() == "previous results"
    assert not old.exists()
    # With out/ there, the swap had finished: the old copy is what was being removed.
    old.mkdir()
    lock_output(tmp_path / "out").release()
    assert not old.exists() and (tmp_path / "out" / "profiles.nc").exists()


def test_a_failed_build_leaves_the_previous_results(tmp_path):
    out = tmp_path / "out"
    publish_folder(out, lambda tmp: (tmp / "a.txt").write_text("first"))

    def boom(tmp):
        (tmp / "a.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish_folder(out, boom)
    assert (out / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_permissions_follow_the_umask(tmp_path):
    """Outputs were created 0700/0600: collaborators could not read them."""
    mask = os.umask(0o022)
    try:
        out = publish_folder(tmp_path / "out", lambda tmp: (tmp / "a.txt").write_text("1"))
        f = atomic_write(tmp_path / "b.txt", "2")
    finally:
        os.umask(mask)
    assert (out.stat().st_mode & 0o777) == 0o755
    assert (f.stat().st_mode & 0o777) == 0o644


def test_a_link_into_the_inputs_is_the_inputs(run_dir):
    """`-o` through a symbolic link into an input folder wrote there."""
    link = run_dir / "link"
    link.symlink_to(run_dir / "spectra", target_is_directory=True)
    before = sorted(p.name for p in (run_dir / "spectra").iterdir())
    r = runner.invoke(
        app, ["run", str(run_dir / "run.toml"), "-o", str(link), "--force", "--no-figures"]
    )
    assert r.exit_code == 2 and "inputs are never written" in r.stderr, r.output
    assert sorted(p.name for p in (run_dir / "spectra").iterdir()) == before
