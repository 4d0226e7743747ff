"""Run one measured piece of work in a child process.

Each fetch and import runs in its own interpreter so its peak memory is its
own. The child reports the VmHWM of its own address space (/proc/self/status)
as it finishes. Neither `getrusage(RUSAGE_CHILDREN)` nor the `ru_maxrss` that
`os.wait4` returns will do: on Linux both keep the high-water mark from before
exec, i.e. the parent's resident memory at fork (the parent serves the local
org, several hundred MB at 50,000 options).
"""

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time

from bench.machine import BASE_DIR

logger = logging.getLogger(__name__)

RESULT_MARK = "BENCH-RESULT "


class ChildFailed(RuntimeError):
    pass


def child_env(**overrides):
    """The environment of a child: this one, minus anything that would point
    it at the shared database or cache, plus the given values."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["PYTHONPATH"] = str(BASE_DIR)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def run_child(task, arguments, *, env, timeout):
    """Run `python -m bench.worker TASK` and return (result, peak_rss_bytes,
    wall_seconds). The worker prints its result as one JSON line."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.worker", task, json.dumps(arguments)],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            cwd=BASE_DIR,
        )
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            output = process.stdout.read().decode()
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
            process.stdout.close()
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        errors.seek(0)
        error_text = errors.read().decode(errors="replace")
    if process.returncode != 0:
        tail = "\n".join(error_text.strip().splitlines()[-15:])
        reason = f"timed out after {timeout} s" if wall >= timeout else (
            f"exited with {process.returncode}"
        )
        raise ChildFailed(f"bench worker {task} {reason}:\n{tail}")
    lines = [line for line in output.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        raise ChildFailed(f"bench worker {task} printed no result:\n{error_text[-2000:]}")
    result = json.loads(lines[-1][len(RESULT_MARK):])
    peak = result.pop("peak_rss_bytes", None)
    if peak is None:  # no /proc: fall back to ru_maxrss (kilobytes on Linux)
        peak = usage.ru_maxrss * 1024
    return result, peak, wall
