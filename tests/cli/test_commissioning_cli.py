"""`hazmon agent probe --plugin ... --port ...`, `hazmon agent identify` and `hazmon agent ports` against a
pseudo-terminal that a thread of the test writes real sensor frames to, as a technician runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: PMS5003, active mode (PyPMS/Adafruit example): PM1 5, PM2.5 13, PM10 22 ug/m3 (CF=1)
PMS5003 = bytes.fromhex("424d001c0005000d00160005000d001602fd00fc001d000f00060006970003c5")
#: SDS011 data frame, Nova Fitness protocol V1.3 example: PM2.5 123.6, PM10 261.8, id A160
SDS011 = bytes.fromhex("aac0d4043a0aa1601dab")
#: a PMS5003 frame with a broken checksum
PMS5003_BAD = PMS5003[:-2] + b"\x00\x00"


def _hazmon(*args: str, timeout: float = 40) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZMON_")}
    return subprocess.run([sys.executable, "-m", "hazmon", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


@contextmanager
def sensor(frames: list[bytes], every_s: float = 0.05) -> Iterator[str]:
    """A pty whose device end sends `frames` in turn every `every_s` (a PMS5003 sends one each 0.2-2.3 s, an
    SDS011 each second); yields the path the command opens. What the command writes is read and dropped."""
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    os.set_blocking(master, False)
    stop = threading.Event()

    def run() -> None:
        i = 0
        while not stop.wait(every_s):
            try:
                os.write(master, frames[i % len(frames)])
                while os.read(master, 4096):
                    pass
            except (BlockingIOError, OSError):
                pass
            i += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield os.ttyname(slave)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_probe_prints_three_plantower_readings_as_json_lines():
    """`probe --plugin plantower --port PTY --count 3 --json`: exactly 3 JSON lines with the frame's values."""
    with sensor([PMS5003]) as port:
        done = _hazmon("agent", "probe", "--plugin", "plantower", "--port", port, "--count", "3", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["quantity"], r["value"], r["unit"]) for r in rows] == [
        ("pm1", 5.0, "ug/m3"), ("pm2_5", 13.0, "ug/m3"), ("pm10", 22.0, "ug/m3")]
    assert all(isinstance(r["ts"], int) and r["ts"] > 1_700_000_000_000 for r in rows)


def test_probe_reports_rejected_frames_on_stderr_with_their_reason():
    """A frame with a bad checksum is named on stderr; the good ones are still printed. Bad and good frames
    alternate: asking for more readings than two good frames hold means a bad one is read between them, whatever
    the pty held before the probe opened it."""
    with sensor([PMS5003_BAD, PMS5003]) as port:
        done = _hazmon("agent", "probe", "--plugin", "plantower", "--port", port, "--count", "30", "--json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 30
    assert "rejected frame: bad_checksum" in done.stderr


def test_probe_takes_plugin_options():
    """`--option mode=active` over the SDS011 defaults (query mode) decodes pushed frames."""
    with sensor([SDS011]) as port:
        done = _hazmon("agent", "probe", "--plugin", "sds011", "--port", port, "--option", "mode=active",
                       "--count", "2", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["quantity"], r["value"]) for r in rows] == [("pm2_5", 123.6), ("pm10", 261.8)]


def test_probe_of_a_missing_port_is_one_line_and_exit_2(tmp_path):
    """A device path that does not exist: one line naming it, exit code 2."""
    line = _one_error_line(_hazmon("agent", "probe", "--plugin", "plantower", "--port", str(tmp_path / "ttyUSB9")))
    assert str(tmp_path / "ttyUSB9") in line and "no such device" in line


def test_probe_of_a_silent_device_is_one_line_and_exit_2():
    """A port that stays silent for --duration: one line saying no reading came, exit code 2."""
    with sensor([b""], every_s=10) as port:
        line = _one_error_line(_hazmon("agent", "probe", "--plugin", "plantower", "--port", port, "-d", "1"))
    assert "no reading within 1 s" in line and port in line


def test_probe_of_an_unknown_option_is_one_line_and_exit_2():
    """A typo in an --option names the option."""
    with sensor([PMS5003]) as port:
        line = _one_error_line(_hazmon("agent", "probe", "--plugin", "plantower", "--port", port,
                                       "--option", "bauds=9600"))
    assert "bauds" in line


def test_identify_names_plantower():
    """`identify --port PTY` with a PMS5003 pushing frames names plantower and prints a source table."""
    with sensor([PMS5003]) as port:
        done = _hazmon("agent", "identify", "--port", port)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(f"{port}: plantower (")
    assert 'type = "plantower"' in done.stdout


def test_identify_names_sds011():
    """`identify --port PTY` with an SDS011 in active mode names sds011 and the mode to configure."""
    with sensor([SDS011]) as port:
        done = _hazmon("agent", "identify", "--port", port)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(f"{port}: sds011 (")
    assert 'mode = "active"' in done.stdout


def test_identify_says_when_no_protocol_answers():
    """Garbage on the line: one line saying no known protocol answers, exit code 2."""
    with sensor([b"hello world\r\n"]) as port:
        line = _one_error_line(_hazmon("agent", "identify", "--port", port, "-d", "1"))
    assert "no known protocol answers" in line and "plantower" in line


def test_ports_lists_the_serial_ports():
    """`hazmon agent ports` exits 0 and prints one entry per port or says there is none."""
    done = _hazmon("agent", "ports")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
