"""`make gpu-check`: prove sce_lib's CUDA path with one command, and write one report.

On a machine with an NVIDIA driver this runs, in order, each step under its own time limit (the
limits add up to 480 s, so the whole check ends within 8 minutes):

1. the CUDA parity tests of every module (``pytest -m gpu``: tests/test_gpu.py and
   tests/test_gpu_modules.py): CPU and GPU give the same numbers, results stay on the GPU;
2. the benchmarks that have a GPU variant (the ones that run on ``sce_lib.default_device()``:
   cross_entropy, linear_hvp, linear_hessian), once on the GPU and once with the GPU hidden
   (``CUDA_VISIBLE_DEVICES=""``), so the CPU figures stand beside the GPU ones;
3. the exact separation estimator at N = 200 000 (K = 10, d = 10, float32) on the GPU, checked
   against the sampled estimate (within 4 standard errors);

and writes ``_build/gpu-check/report.md`` (and ``report.json``) with every step's outcome, output
and time. The exit status is 1 if a step failed, else 0.

Which Python: the first of ``.venv/bin/python``, ``$GPU_PYTHON`` and ``python3`` whose torch sees a
CUDA device. A clean clone on a machine with only Python 3.11 and a CUDA driver gets one from
``make venv``, which ``make gpu-check`` runs first there: on Linux the package index's
``torch==2.13.0`` is the CUDA build (only these build machines' local wheel is the CPU one). On a
machine whose own ``python3`` already holds a CUDA torch and that cannot install (no network),
that interpreter is used with the repository on ``PYTHONPATH``, and the report names its torch.

Without an NVIDIA driver it prints one line saying so and exits 0. ``--dry-run`` prints the plan
(every command it would run) and exits 0, on any machine.

Usage: python tools/gpu_check.py [--dry-run] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPU_BENCHES = ("cross_entropy", "linear_hvp", "linear_hessian")
N_BIG = 200_000

_BENCH = (
    "import json, sys; sys.path.insert(0, 'benchmarks'); import bench_{name} as b; r = b.main(); "
    "print('\\n'.join(b.table(r))); print('JSON ' + json.dumps(r, default=str))"
)
_SEPARABILITY = (
    "import json, time, torch, sce_lib; "
    "g = torch.Generator().manual_seed(0); n = {n}; y = torch.arange(n) % 10; "
    "X = (torch.randn(n, 10, generator=g) + torch.nn.functional.one_hot(y, 10).float()).cuda(); y = y.cuda(); "
    "sce_lib.separation_probability(X[:2000], y[:2000]); torch.cuda.synchronize(); "
    "t = time.perf_counter(); p = sce_lib.separation_probability(X, y); torch.cuda.synchronize(); "
    "t = time.perf_counter() - t; s = sce_lib.sampled_separation_probability(X, y, n_pairs=400_000, seed=1); "
    "ok = abs(s.estimate - p) < 4 * s.stderr; "
    "print(f'N = {{n}}: P = {{p:.6f}} in {{t:.2f}} s on {{torch.cuda.get_device_name()}}; '"
    "      f'sampled {{s.estimate:.5f}} +- {{s.stderr:.5f}}: {{\"agrees\" if ok else \"DISAGREES\"}}'); "
    "print('JSON ' + json.dumps({{'N': n, 'p': p, 'seconds': t, 'sampled': s.estimate, 'stderr': s.stderr}})); "
    "raise SystemExit(0 if ok else 1)"
)


def cuda_driver() -> str | None:
    """A one-line description of the NVIDIA driver, or None when there is none."""
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired):
            pass
    version = Path("/proc/driver/nvidia/version")
    return version.read_text().splitlines()[0] if version.is_file() else None


def _sees_cuda(python: str) -> str | None:
    """torch's version when this interpreter's torch sees a CUDA device, else None."""
    code = "import torch; assert torch.cuda.is_available(); print(torch.__version__, torch.version.cuda)"
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def candidates() -> list[str]:
    found = [str(ROOT / ".venv" / "bin" / "python"), os.environ.get("GPU_PYTHON", ""), shutil.which("python3") or ""]
    return [p for p in dict.fromkeys(found) if p and Path(p).exists()]


def find_python() -> tuple[str | None, str | None]:
    """The first candidate interpreter whose torch sees CUDA, and its torch version."""
    for candidate in candidates():
        version = _sees_cuda(candidate)
        if version:
            return candidate, version
    return None, None


def plan(python: str) -> list[dict]:
    """The steps: a name, the command, the environment changes, the time limit in seconds."""
    steps = [{"name": "CUDA parity tests of every module", "timeout": 100, "env": {},
              "cmd": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
                      "tests/test_gpu.py", "tests/test_gpu_modules.py"]}]
    for name in GPU_BENCHES:
        code = _BENCH.format(name=name)
        steps.append({"name": f"bench {name} on the GPU", "timeout": 40, "env": {}, "cmd": [python, "-c", code]})
        steps.append({"name": f"bench {name} on the CPU (GPU hidden)", "timeout": 60,
                      "env": {"CUDA_VISIBLE_DEVICES": ""}, "cmd": [python, "-c", code]})
    steps.append({"name": f"separation_probability at N = {N_BIG} on the GPU", "timeout": 80, "env": {},
                  "cmd": [python, "-c", _SEPARABILITY.format(n=N_BIG)]})
    return steps


def run_step(step: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **step["env"]}
    start = time.perf_counter()
    try:
        proc = subprocess.run(step["cmd"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=step["timeout"])
        status = "passed" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
        output = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as err:
        status = f"FAILED (over its {step['timeout']} s limit)"
        output = (err.stdout or b"").decode(errors="replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
    seconds = time.perf_counter() - start
    data = [json.loads(line[5:]) for line in output.splitlines() if line.startswith("JSON ")]
    text = "\n".join(line for line in output.splitlines() if not line.startswith("JSON "))
    return {"name": step["name"], "status": status, "seconds": round(seconds, 2), "output": text[-6000:],
            "data": data[-1] if data else None}


def report_markdown(header: dict, results: list[dict]) -> str:
    lines = ["# sce_lib GPU check", "", *(f"- {k}: {v}" for k, v in header.items()), "",
             "| step | result | seconds |", "|---|---|---|",
             *(f"| {r['name']} | {r['status']} | {r['seconds']:.1f} |" for r in results), ""]
    for r in results:
        lines += [f"## {r['name']}: {r['status']}", "", "```", r["output"].strip(), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the plan and exit 0")
    parser.add_argument("--out", default=str(ROOT / "_build" / "gpu-check"), help="folder of the report")
    args = parser.parse_args(argv)

    if args.dry_run:
        print("gpu-check plan (dry run; nothing is executed):")
        print("  python: the first of .venv/bin/python, $GPU_PYTHON, python3 whose torch sees CUDA")
        for i, step in enumerate(plan("PYTHON"), 1):
            env = " ".join(f"{k}={v!r}" for k, v in step["env"].items())
            cmd = " ".join(step["cmd"][1:3] if step["cmd"][1] == "-c" else step["cmd"][1:])
            cmd = "PYTHON " + (cmd if len(cmd) < 160 else cmd[:157] + "...")
            print(f"  {i}. {step['name']} (limit {step['timeout']} s): {env + ' ' if env else ''}{cmd}")
        total = sum(step["timeout"] for step in plan("PYTHON"))
        print(f"  time limits add up to {total} s; report: {args.out}/report.md and report.json")
        return 0

    driver = cuda_driver()
    if driver is None:
        print("gpu-check: no CUDA device on this machine (no NVIDIA driver: nvidia-smi and /proc/driver/nvidia "
              "are absent); nothing to check.")
        return 0

    python, torch_version = find_python()
    if python is None and not (ROOT / ".venv" / ".installed").exists() and shutil.which("make"):
        # a clean clone: the project's own install (on Linux the index's torch==2.13.0 is the CUDA build)
        print("gpu-check: no Python with a CUDA torch yet; running 'make venv'", flush=True)
        subprocess.run(["make", "venv"], cwd=ROOT, check=False)
        python, torch_version = find_python()
    if python is None:
        print(f"gpu-check: an NVIDIA driver is here ({driver}) but no Python's torch sees a CUDA device; tried "
              f"{candidates()}. Install the CUDA build of torch==2.13.0 into .venv (see the README).",
              file=sys.stderr)
        return 1

    header = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "GPU and driver": driver, "python": python,
              "torch, CUDA": torch_version, "CPU cores": os.cpu_count(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True).stdout.strip() or "unknown"}
    print("gpu-check:", ", ".join(f"{k} {v}" for k, v in header.items()), flush=True)
    results = []
    for step in plan(python):
        result = run_step(step)
        results.append(result)
        print(f"  {result['name']}: {result['status']} ({result['seconds']:.1f} s)", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(report_markdown(header, results), encoding="utf-8")
    (out / "report.json").write_text(json.dumps({"header": header, "steps": results}, indent=1), encoding="utf-8")
    failed = [r["name"] for r in results if r["status"] != "passed"]
    print(f"gpu-check: {len(results) - len(failed)} of {len(results)} steps passed; report in {out / 'report.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
