"""No fault loses data (issue 21), the files: one writer per CSV by the file's identity, an
output that is not a session CSV kept, formulas neutralised, students' files private, and the
writers' locks in a private folder of the user's. Each test failed before its fix."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_desktop.analysis.result import FrameResult
from fer_desktop.cli import main
from fer_desktop.session.export import (CSV_COLUMNS, CsvSink, ExportError, copy_csv, read_csv,
                                        write_class_csv, write_summary_csv)
from fer_desktop.session.record import SessionRecord

ROOT = Path(__file__).resolve().parents[1]
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX files and modes")


@pytest.fixture(autouse=True)
def _private_runtime_dir(tmp_path, monkeypatch) -> Path:
    """Each test's locks go to a runtime folder of its own (0700, as the system makes it)."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime


def _frame(source: str = "lesson.png", names=("Ada", "Ben"), t: float = 0.0) -> FrameResult:
    """A 2-tile result, both with a happy face."""
    n = len(names)
    probs = np.full((n, 7), 0.05, np.float32)
    probs[:, 3] = 0.7
    return FrameResult.of_tiles(
        frame_index=0, timestamp=1_700_000_000.0 + t, position_s=t, source=source,
        frame_size=(100 * n, 100),
        tiles=np.array([[i * 100, 0, 100, 100] for i in range(n)], np.int32).reshape(n, 4),
        faces=np.array([[i * 100 + 10, 10, 50, 50] for i in range(n)], np.int32).reshape(n, 4),
        probs=probs, students=tuple(names))


def _holder(path: Path) -> subprocess.Popen:
    """Another process writing ``path`` (a recording window or analyze) until killed."""
    code = ("import sys, time; from fer_desktop.session.export import CsvSink; "
            f"s = CsvSink({str(path)!r}); print('ready', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=os.environ.copy())
    assert proc.stdout.readline().strip() == "ready"
    return proc


@POSIX
def test_another_spelling_of_a_held_csv_never_truncates_it(gallery_png, tmp_path, capsys):
    """The lock was keyed by the spelled path: ``..`` or a symbolic link got past it and the
    second writer truncated the first one's CSV."""
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "live.csv"
    holder = _holder(out)
    try:
        with open(out, "a", encoding="utf-8") as f:  # rows the holder has written
            f.write("2026-01-01T00:00:00.000+00:00,0.000,0,screen:1,0,Ada\n")
        before = out.read_bytes()
        link = tmp_path / "link.csv"
        link.symlink_to(out)
        hard = tmp_path / "hard.csv"
        os.link(out, hard)
        other = tmp_path / "other.csv"
        with CsvSink(other) as sink:
            sink.write(_frame())
        for spelling in (folder / ".." / "out" / "live.csv", link, hard):
            assert main(["analyze", str(gallery_png), "--out", str(spelling), "-q"]) == 2
            assert "being written by another fer-desktop" in capsys.readouterr().err
            with pytest.raises(ExportError, match="being written"):
                CsvSink(spelling, append=True)
            with pytest.raises(ExportError, match="being written"):
                copy_csv(other, spelling)
        assert out.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
    assert main(["analyze", str(gallery_png), "--out", str(link), "-q"]) == 0
    assert len(read_csv(out)) == 9


def test_out_keeps_a_file_that_is_not_a_session_csv_unless_forced(gallery_png, tmp_path,
                                                                  capsys):
    """``--out`` silently overwrote an existing .py, .txt or suffix-less file."""
    for name, content in (("notes.txt", "my lesson notes\n"), ("tool.py", "print(1)\n"),
                          ("README", "x"), ("grades.csv", "student,grade\nAda,A\n")):
        victim = tmp_path / name
        victim.write_text(content, encoding="utf-8")
        assert main(["analyze", str(gallery_png), "--out", str(victim), "-q"]) == 2
        err = capsys.readouterr().err
        assert "not a session CSV" in err and "--force" in err and "Traceback" not in err
        assert victim.read_text(encoding="utf-8") == content
    with pytest.raises(ExportError, match="not a session CSV"):  # the window's --csv too
        CsvSink(victim, append=True)
    assert victim.read_text(encoding="utf-8") == content
    assert main(["analyze", str(gallery_png), "--out", str(victim), "--force", "-q"]) == 0
    assert len(read_csv(victim)) == 9
    # a session CSV (from an earlier run) and an empty file are replaced without --force
    assert main(["analyze", str(gallery_png), "--out", str(victim), "-q"]) == 0
    empty = tmp_path / "empty.csv"
    empty.touch()
    assert main(["analyze", str(gallery_png), "--out", str(empty), "-q"]) == 0
    assert len(read_csv(victim)) == 9 and len(read_csv(empty)) == 9


@POSIX
@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_out_refuses_pipes_folders_and_devices_without_hanging(kind, gallery_png, tmp_path):
    """A FIFO as ``--out`` hung for ever."""
    target = {"fifo": tmp_path / "pipe.csv", "folder": tmp_path / "folder.csv",
              "device": Path("/dev/null")}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    for force in ([], ["--force"]):
        proc = subprocess.run([sys.executable, "-m", "fer_desktop", "analyze", str(gallery_png),
                               "--out", str(target), "-q", *force], capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "not a file" in proc.stderr and str(target) in proc.stderr


def test_text_cells_that_a_spreadsheet_would_run_are_neutralised(gallery_png, tmp_path):
    """File names and typed names reached the CSV raw: ``=cmd|' /C calc'!A0``."""
    from fer_desktop.session.files import text_cell

    for bad in ("=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert text_cell(bad) == "'" + bad
        assert text_cell(text_cell(bad)) == "'" + bad
    for fine in ("Ada", "Student 3", "gallery9.png", "'quoted", ""):
        assert text_cell(fine) == fine
    evil = tmp_path / "=cmd|' C calc'!A0.png"
    evil.write_bytes(gallery_png.read_bytes())
    out = tmp_path / "out.csv"
    assert main(["analyze", str(evil), "--out", str(out), "-q"]) == 0
    assert {r["source"] for r in read_csv(out)} == {"'=cmd|' C calc'!A0.png"}
    live = tmp_path / "live.csv"
    with CsvSink(live) as sink:
        sink.write(_frame(source="@evil", names=("=HYPERLINK(\"x\")", "Ben")))
    rows = read_csv(live)
    assert [r["student"] for r in rows] == ["'=HYPERLINK(\"x\")", "Ben"]
    assert rows[0]["source"] == "'@evil" and list(rows[0]) == list(CSV_COLUMNS)
    copy_csv(live, tmp_path / "export.csv", renames={1: "+33 6 12 34 56 78"})
    assert [r["student"] for r in read_csv(tmp_path / "export.csv")] == [
        "'=HYPERLINK(\"x\")", "'+33 6 12 34 56 78"]
    record = SessionRecord()
    record.add(_frame(names=("-Ada", "Ben")))
    record.add(_frame(names=("-Ada", "Ben"), t=0.5))
    write_summary_csv(record.summaries({0: "-Ada"}), tmp_path / "students.csv")
    assert read_csv(tmp_path / "students.csv")[0]["student"] == "'-Ada"


@POSIX
def test_students_files_are_private_whatever_the_umask(gallery_png, tmp_path):
    """Session files with students' names were 0644 in 0755 folders."""
    old = os.umask(0)
    try:
        out = tmp_path / "new" / "deeper" / "out.csv"
        assert main(["analyze", str(gallery_png), "--out", str(out), "-q"]) == 0
        live = tmp_path / "sessions" / "live.csv"
        with CsvSink(live) as sink:
            sink.write(_frame())
        copy_csv(live, tmp_path / "export.csv")
        record = SessionRecord()
        record.add(_frame())
        write_summary_csv(record.summaries(), tmp_path / "students.csv")
        t, shares, faces = record.class_series()
        write_class_csv(t, shares, faces, tmp_path / "class_mood.csv")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    for folder in (tmp_path / "new", tmp_path / "new" / "deeper", tmp_path / "sessions"):
        assert mode(folder) == 0o700, folder
    for f in (out, live, tmp_path / "export.csv", tmp_path / "students.csv",
              tmp_path / "class_mood.csv"):
        assert mode(f) == 0o600, f


@POSIX
def test_locks_live_in_a_private_folder_and_are_removed_when_released(tmp_path,
                                                                     _private_runtime_dir):
    """The lock folder was a predictable ``/tmp/fer-desktop-locks-<uid>`` that grew without
    bound."""
    from fer_desktop.session.files import lock_dir

    folder = _private_runtime_dir / "fer-desktop-locks"
    with CsvSink(tmp_path / "a.csv"):
        assert lock_dir() == folder
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        (lock,) = folder.iterdir()
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert list(folder.iterdir()) == []


@POSIX
def test_without_a_runtime_folder_locks_go_to_the_app_data(tmp_path, monkeypatch):
    from fer_desktop.session.files import lock_dir

    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with CsvSink(tmp_path / "a.csv"):
        folder = lock_dir()
        assert folder == tmp_path / "data" / "fer-desktop" / "fer-desktop" / "locks"
        assert len(list(folder.iterdir())) == 1
    assert list(folder.iterdir()) == []
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@POSIX
@pytest.mark.parametrize("tamper", ["open to all", "a file", "a link", "another user's"])
def test_a_tampered_lock_folder_is_a_clear_message(tamper, gallery_png, tmp_path,
                                                   _private_runtime_dir, capsys):
    """A lock folder pre-made by another user gave a traceback, or no recording."""
    folder = _private_runtime_dir / "fer-desktop-locks"
    if tamper == "open to all":
        folder.mkdir()
        folder.chmod(0o777)
    elif tamper == "a file":
        folder.write_text("x")
    elif tamper == "a link":
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "elsewhere")
    else:
        if os.geteuid() != 0:
            pytest.skip("only root can give a folder to another user")
        folder.mkdir(mode=0o700)
        os.chown(folder, 4242, 4242)
    out = tmp_path / "out.csv"
    assert main(["analyze", str(gallery_png), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "lock folder" in err and "cannot be trusted" in err and "Traceback" not in err
    assert not out.exists()
    with pytest.raises(ExportError, match="Remove it"):
        CsvSink(out)
