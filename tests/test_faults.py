"""No fault loses or corrupts data (issue 13): each attack on the command line and the window that
once destroyed an input, tore the CSV, hid a damaged file or stopped a batch."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from fer_desktop.analysis.cvutil import cv2
from fer_desktop.analysis.emotions import EmotionModel, ModelError
from fer_desktop.capture.sources import SourceError, read_image
from fer_desktop.cli import main
from fer_desktop.session.export import CSV_COLUMNS, CsvSink, ExportError, read_csv

ROOT = Path(__file__).resolve().parents[1]


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says ``width`` x ``height`` (no pixel data worth decoding)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def _rows_are_whole(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    rows = read_csv(path)
    assert all(len(r) == len(CSV_COLUMNS) and None not in r.values() for r in rows)
    return len(rows)


def test_out_naming_an_input_is_refused_and_the_input_kept(gallery_png, tmp_path, capsys):
    """#1: a 16 MB video became a 3.7 KB CSV."""
    victim = tmp_path / "lesson.png"
    shutil.copy(gallery_png, victim)
    before = victim.read_bytes()
    assert main(["analyze", str(victim), "--out", str(victim), "-q"]) == 2
    assert "is one of the inputs" in capsys.readouterr().err
    assert victim.read_bytes() == before
    assert main(["analyze", str(victim), "--out", str(tmp_path / "x.mp4"), "-q"]) == 2


def test_a_second_writer_of_a_csv_is_refused_and_a_crash_releases_it(gallery_png, tmp_path,
                                                                     capsys):
    """#2: two processes writing one CSV lost and tore rows, and both exited 0."""
    out = tmp_path / "shared.csv"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from fer_desktop.session.export import CsvSink; "
         f"s = CsvSink({str(out)!r}); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["analyze", str(gallery_png), "--out", str(out), "-q"]) == 2
        assert "being written by another fer-desktop" in capsys.readouterr().err
        assert read_csv(out) == []  # the holder's file is untouched (header only)
        with pytest.raises(ExportError):  # and in-process too
            CsvSink(out)
    finally:
        holder.kill()  # a crash: the system releases the lock
        holder.wait()
    assert main(["analyze", str(gallery_png), "--out", str(out), "-q"]) == 0
    assert _rows_are_whole(out) == 9


def test_a_truncated_video_is_reported_and_exits_1(faces, tmp_path, capsys):
    """#3: a cut AVI (its header says 40 frames) was read to the cut and reported complete."""
    from testing.synthetic import make_gallery

    video = tmp_path / "lesson.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 360))
    for k in range(40):
        writer.write(make_gallery(faces, 4, (640, 360), seed=k)[0])
    writer.release()
    data = video.read_bytes()
    video.write_bytes(data[:int(len(data) * 0.4)])
    out = tmp_path / "cut.csv"
    assert main(["analyze", str(video), "--out", str(out), "--rate", "0", "-q"]) == 1
    err = capsys.readouterr().err
    assert "damaged or incomplete" in err and "of the 40" in err
    assert 0 < _rows_are_whole(out) < 4 * 40


def test_one_bad_input_never_stops_the_batch(gallery_png, tmp_path, capsys):
    """#4 and #5: a 1x1000 image, a 40000x40000 PNG and a damaged file stopped the batch with a
    traceback; the good input after them was never analysed. Sizes come from the header."""
    thin = tmp_path / "thin.png"
    cv2.imwrite(str(thin), np.zeros((1000, 1, 3), np.uint8))
    huge = png_header(tmp_path / "huge.png", 40000, 40000)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(os.urandom(5000))
    out = tmp_path / "batch.csv"
    code = main(["analyze", str(thin), str(huge), str(junk), str(gallery_png), "--out",
                 str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "too small to show a face" in err and "than any screen" in err
    assert "junk.jpg" in err
    assert _rows_are_whole(out) == 9 and {r["source"] for r in read_csv(out)} == {"gallery9.png"}
    with pytest.raises(SourceError, match="more pixels than any screen"):
        read_image(png_header(tmp_path / "bomb.png", 30000, 30000))


def test_a_full_disk_keeps_every_written_row_whole_and_exits_2(gallery_png, tmp_path, capsys,
                                                                monkeypatch):
    """#6: a traceback from close, exit 1 and a torn last row."""
    import fer_desktop.session.export as export

    real_write, calls = os.write, {"n": 0}

    def filling_disk(fd, data):
        calls["n"] += 1
        if calls["n"] == 3:  # the second frame: half of it fits, then the disk is full
            return real_write(fd, data[:len(data) // 2])
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(export.os, "write", filling_disk)
    video = tmp_path / "frames"
    video.mkdir()
    for k in range(3):
        shutil.copy(gallery_png, video / f"shot{k}.png")
    out = tmp_path / "full.csv"
    assert main(["analyze", str(video), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err
    assert _rows_are_whole(out) == 9  # the first frame, whole; nothing of the second


def test_a_damaged_model_is_refused(model_path, tmp_path, gallery_png, capsys):
    """#7: 4 KB of random bytes inside the weights loaded and ran with shifted
    probabilities."""
    copy = tmp_path / "fer_cnn.tflite"
    shutil.copy(model_path, copy)
    shutil.copy(model_path.with_name(model_path.name + ".sha256"),
                copy.with_name(copy.name + ".sha256"))
    EmotionModel(copy)  # intact: loads
    data = bytearray(copy.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = os.urandom(4096)
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged"):
        EmotionModel(copy)
    assert main(["analyze", str(gallery_png), "--out", str(tmp_path / "x.csv"), "--model",
                 str(copy), "-q"]) == 2
    assert "is damaged" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--rate", "nan"], ["--smoothing", "nan"],
                                    ["--threads", "0"], ["--rate", "-2"], ["--smoothing", "x"]])
def test_every_option_is_validated_with_a_message(option, gallery_png, tmp_path, capsys):
    """#8: a traceback, NaN probabilities, or a "damaged model" message."""
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", str(gallery_png), "--out", str(tmp_path / "x.csv"), *option])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert option[0] in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_save_the_session_and_quit(sig, gallery_png, tmp_path):
    """#9: Ctrl+C did not close the window; SIGTERM quit without saving the session folder."""
    from fer_desktop.gui.qt_settings import NOTICE_VERSION

    config = tmp_path / "config"
    (config / "fer-desktop").mkdir(parents=True)
    sessions = tmp_path / "sessions"
    (config / "fer-desktop" / "fer-desktop.conf").write_text(
        f"[privacy]\nnotice_acknowledged={NOTICE_VERSION}\n"
        f"[settings]\nexport_dir={sessions}\n", encoding="utf-8")
    csv = tmp_path / "live.csv"
    env = {**os.environ, "XDG_CONFIG_HOME": str(config), "XDG_DATA_HOME": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen"}
    app = subprocess.Popen([sys.executable, "-m", "fer_desktop", "--source", str(gallery_png),
                            "--csv", str(csv)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (not csv.exists() or len(read_csv(csv)) < 18):
            time.sleep(0.2)
        assert len(read_csv(csv)) >= 18, "the window did not record"
        app.send_signal(sig)
        assert app.wait(timeout=60) == 0
    finally:
        if app.poll() is None:
            app.kill()
    (folder,) = sessions.iterdir()
    assert (folder / "report.html").exists() and (folder / "session.csv").exists()
    assert b"Traceback" not in app.stderr.read()
    _rows_are_whole(csv)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_or_killed_analyze_keeps_whole_rows(sig, gallery_png, tmp_path):
    """What holds: Ctrl+C flushes and exits 130; kill -9 at any moment leaves a parseable CSV
    with every analysed frame."""
    shots = tmp_path / "shots"
    shots.mkdir()
    for k in range(200):
        os.link(gallery_png, shots / f"shot{k:03d}.png")
    out = tmp_path / "out.csv"
    run = subprocess.Popen([sys.executable, "-m", "fer_desktop", "analyze", str(shots), "--out",
                            str(out), "-q"], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (not out.exists() or len(read_csv(out)) < 27):
            time.sleep(0.1)
        run.send_signal(sig)
        code = run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    rows = _rows_are_whole(out)
    assert rows >= 27 and rows % 9 == 0  # whole frames only
    if sig == signal.SIGINT:
        assert b"Traceback" not in run.stderr.read()
