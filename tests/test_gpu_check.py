"""`make gpu-check` (tools/gpu_check.py): its no-CUDA answer and its plan.

The CUDA path itself needs a GPU; here the test proves that on a machine without an NVIDIA driver the
command says so in one line and exits 0, and that the dry run lists every step (the parity tests of
every module, each GPU bench with its CPU twin, the N = 200 000 estimator) within the 8-minute limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from _paths import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import gpu_check  # noqa: E402


def test_without_cuda_it_says_so_in_one_line_and_exits_0(tmp_path: Path) -> None:
    if Path("/proc/driver/nvidia/version").exists():
        pytest.skip("this machine has an NVIDIA driver")
    env = {**os.environ, "PATH": str(tmp_path) + os.pathsep + "/usr/bin:/bin"}  # no nvidia-smi on it
    proc = subprocess.run(["make", "--no-print-directory", "gpu-check"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "no CUDA device" in lines[0], proc.stdout


def test_the_dry_run_lists_every_step_within_eight_minutes() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--dry-run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "CUDA parity tests of every module" in out
    for name in gpu_check.GPU_BENCHES:
        assert f"bench {name} on the GPU" in out and f"bench {name} on the CPU (GPU hidden)" in out
    assert f"N = {gpu_check.N_BIG}" in out
    steps = gpu_check.plan("python")
    assert sum(step["timeout"] for step in steps) <= 8 * 60
    # the parity step runs every gpu-marked test file, and each of them exists
    files = [a for a in steps[0]["cmd"] if a.startswith("tests/")]
    assert files and all((ROOT / f).is_file() for f in files)
    assert {p.name for p in (ROOT / "tests").glob("test_gpu*.py")} - {"test_gpu_check.py"} == {Path(f).name for f in files}


def test_the_report_is_written_from_the_steps() -> None:
    text = gpu_check.report_markdown({"GPU and driver": "X"}, [
        {"name": "a", "status": "passed", "seconds": 1.0, "output": "ok"},
        {"name": "b", "status": "FAILED (exit 1)", "seconds": 2.0, "output": "boom"}])
    assert "| a | passed | 1.0 |" in text and "| b | FAILED (exit 1) | 2.0 |" in text and "boom" in text
