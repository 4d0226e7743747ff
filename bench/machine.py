"""What the figures were measured on: cores, memory, commit, Python."""

import datetime as dt
import os
import platform
import socket
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def memory_bytes():
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return None


def commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=BASE_DIR, capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=10,
    ).stdout.strip()
    return out.stdout.strip() + ("+changes" if dirty else "")


def machine_name():
    name = socket.gethostname().split(".")[0] or "machine"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def load_average():
    """The 1, 5 and 15 minute load averages: on a machine shared with other
    work, a load above the core count means the wall times include waiting."""
    try:
        with open("/proc/loadavg") as loadavg:
            return [float(value) for value in loadavg.read().split()[:3]]
    except OSError:
        return None


def describe():
    return {
        "name": machine_name(),
        "cores": os.cpu_count(),
        "memory_bytes": memory_bytes(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit(),
        "load_average_at_start": load_average(),
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
