"""Benchmarks of dipcheck at force and national scale, each against a bare pandas floor.

Run from the repository root with the project's environment:

    .venv/bin/python benchmarks/run.py frame        # read + validate + draw vs read_csv
    .venv/bin/python benchmarks/run.py national     # estimate_compliance vs a groupby-sum
    .venv/bin/python benchmarks/run.py quarter      # the demo quarter's notebooks vs imports
    .venv/bin/python benchmarks/run.py all --json benchmarks/results.json

Every timing is the best of ``--repeats`` runs, and every run of the frame benchmark is a
fresh subprocess, so that its peak memory is its own. Figures are printed as Markdown
tables for ``docs/benchmarks.md``. ``profile-frame`` and ``profile-national`` print a
cProfile summary of one run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
sys.path.insert(0, str(BENCHMARKS))

logger = logging.getLogger("benchmarks.run")

FRAME_SIZES = (250_000, 500_000, 1_000_000)
FRAME_SAMPLE_SIZE = 1000
NATIONAL_CASES_PER_STRATUM = (75, 150, 300)
"""Sampled cases per area and quarter: 43 areas x 8 quarters x 12 questions x these."""

TARGET_FRAME_TIME = 2.0
TARGET_FRAME_MEMORY = 3.0
TARGET_NATIONAL_TIME = 1.5


# Memory of the current process, from /proc (Linux).


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as stream:
        for line in stream:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_memory() -> bool:
    """Reset the peak resident set size (VmHWM) to the current one; False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as stream:
            stream.write("5")
    except OSError:
        return False
    return True


# Workers: each runs in its own process and prints one JSON line.


def _frame_worker(path: str, mode: str) -> dict:
    import pandas as pd

    from dipcheck.frames import read_frame
    from dipcheck.sampling import draw_sample

    baseline = _status_kib("VmRSS")
    peak_was_reset = _reset_peak_memory()
    started = time.perf_counter()
    if mode == "pandas":
        cases = pd.read_csv(path)
        read_seconds = time.perf_counter() - started
        draw_seconds = 0.0
    else:
        cases = read_frame([Path(path)]).cases
        read_seconds = time.perf_counter() - started
        draw_sample(cases, sample_size=FRAME_SAMPLE_SIZE, seed=1, stratify_by=["area"])
        draw_seconds = time.perf_counter() - started - read_seconds
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")

    return {
        "mode": mode,
        "rows": len(cases),
        "seconds": seconds,
        "read_seconds": read_seconds,
        "draw_seconds": draw_seconds,
        "baseline_mib": baseline / 1024,
        "peak_mib": peak / 1024,
        "peak_was_reset": peak_was_reset,
        "frame_mib": int(cases.memory_usage(deep=True).sum()) / 2**20,
    }


def _national_worker(cases_per_stratum: int, repeats: int) -> dict:
    import synthetic

    from dipcheck.estimation import estimate_compliance

    answers, design = synthetic.national_answers(cases_per_stratum)

    def bare_groupby():
        met = answers["answer"] == "met"
        return met.groupby([answers["quarter"], answers["area"], answers["question_id"]]).sum()

    def by_area():
        return estimate_compliance(answers, design, by=["area"])

    def national():
        return estimate_compliance(answers, design)

    timings = {"pandas": [], "by_area": [], "national": []}
    rows = {}
    for _ in range(repeats):
        for name, function in (
            ("pandas", bare_groupby),
            ("by_area", by_area),
            ("national", national),
        ):
            started = time.perf_counter()
            result = function()
            timings[name].append(time.perf_counter() - started)
            rows[name] = len(result)

    return {
        "cases_per_stratum": cases_per_stratum,
        "answers": len(answers),
        "timings": timings,
        "rows": rows,
        "peak_mib": _status_kib("VmHWM") / 1024,
    }


def _run_worker(arguments: list[str]) -> dict:
    """Run this script's ``worker`` command in a fresh Python and return its JSON line."""
    command = [sys.executable, str(Path(__file__).resolve()), "worker", *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"worker {arguments} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# The benchmarks.


def benchmark_frame(sizes, repeats: int, folder: Path, shuffled: bool = False) -> list[dict]:
    """Time and measure read_frame + draw_sample against pandas.read_csv at each size."""
    import synthetic

    results = []
    for size in sizes:
        path = synthetic.write_case_extract(folder, size, shuffled=shuffled)
        path.read_bytes()  # the first timed read should not be the one that fills the cache
        runs = {"pandas": [], "dipcheck": []}
        for _ in range(repeats):
            for mode in runs:
                runs[mode].append(_run_worker(["frame", str(path), mode]))
        results.append({"rows": size, "file_mb": path.stat().st_size / 1e6, "runs": runs})
        logger.info("frame %d: done", size)
    return results


def frame_table(results: list[dict]) -> str:
    lines = [
        "| cases | CSV (MB) | read_csv (s) | read_frame (s) | draw_sample (s) | dipcheck (s) "
        "| time ratio | frame in memory (MiB) | peak RSS increase (MiB) | memory ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        pandas_runs = result["runs"]["pandas"]
        dipcheck_runs = result["runs"]["dipcheck"]
        bare = min(run["seconds"] for run in pandas_runs)
        best = min(dipcheck_runs, key=lambda run: run["seconds"])
        increase = max(run["peak_mib"] - run["baseline_mib"] for run in dipcheck_runs)
        frame_mib = best["frame_mib"]
        lines.append(
            f"| {result['rows']:,} | {result['file_mb']:.0f} | {bare:.2f} "
            f"| {best['read_seconds']:.2f} | {best['draw_seconds']:.2f} | {best['seconds']:.2f} "
            f"| {best['seconds'] / bare:.2f} | {frame_mib:.0f} | {increase:.0f} "
            f"| {increase / frame_mib:.2f} |"
        )
    lines.append("")
    lines.append(
        f"Targets: time ratio at most {TARGET_FRAME_TIME}, memory ratio at most "
        f"{TARGET_FRAME_MEMORY}."
    )
    return "\n".join(lines)


def benchmark_national(cases_per_stratum, repeats: int) -> list[dict]:
    """Time estimate_compliance against a bare groupby-sum, one fresh process per size."""
    results = []
    for cases in cases_per_stratum:
        results.append(_run_worker(["national", str(cases), str(repeats)]))
        logger.info("national %d cases per stratum: done", cases)
    return results


def national_table(results: list[dict]) -> str:
    lines = [
        "| cases per stratum | answers | groupby-sum (s) | by area (s) | ratio "
        "| national (s) | ratio | peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        best = {name: min(times) for name, times in result["timings"].items()}
        lines.append(
            f"| {result['cases_per_stratum']} | {result['answers']:,} | {best['pandas']:.2f} "
            f"| {best['by_area']:.2f} | {best['by_area'] / best['pandas']:.2f} "
            f"| {best['national']:.2f} | {best['national'] / best['pandas']:.2f} "
            f"| {result['peak_mib']:.0f} |"
        )
    lines.append("")
    lines.append(f"Target: ratio at most {TARGET_NATIONAL_TIME}.")
    return "\n".join(lines)


def profile(function, limit: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    function()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(limit)


def machine() -> dict:
    """Describe the machine and the versions of the packages that matter here."""
    import matplotlib
    import numpy
    import pandas
    import papermill
    import scipy

    model = "unknown"
    with open("/proc/cpuinfo") as stream:
        for line in stream:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kib = 0
    with open("/proc/meminfo") as stream:
        for line in stream:
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kib / 2**20, 1),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
        "papermill": papermill.__version__,
        "load_average": os.getloadavg(),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dipcheck-benchmarks",
        help="folder for generated extracts and project copies (default: under /tmp)",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)

    frame = commands.add_parser("frame", help="read, validate and draw from a large extract")
    frame.add_argument("--sizes", type=int, nargs="+", default=list(FRAME_SIZES))
    frame.add_argument(
        "--shuffled", action="store_true",
        help="cases in random order rather than in case reference order",
    )  # fmt: skip
    national = commands.add_parser("national", help="estimate a national roll-up")
    national.add_argument(
        "--cases", type=int, nargs="+", default=list(NATIONAL_CASES_PER_STRATUM),
        help="sampled cases per area and quarter",
    )  # fmt: skip
    commands.add_parser("quarter", help="the demo quarter's notebooks against import-only ones")
    parallel = commands.add_parser("parallel", help="several forces' demo runs at once")
    parallel.add_argument(
        "--processes", type=int, nargs="+", default=[1, 2, 4],
        help="numbers of demo runs to start at once, one project copy each",
    )  # fmt: skip
    commands.add_parser("all", help="frame, national and quarter with their defaults")

    profile_frame = commands.add_parser("profile-frame", help="cProfile read_frame + draw")
    profile_frame.add_argument("--size", type=int, default=1_000_000)
    profile_national = commands.add_parser("profile-national", help="cProfile the roll-up")
    profile_national.add_argument("--cases", type=int, default=300)

    worker = commands.add_parser("worker", help=argparse.SUPPRESS)
    worker.add_argument("kind", choices=["frame", "national"])
    worker.add_argument("values", nargs="+")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    if arguments.command == "worker":
        if arguments.kind == "frame":
            path, mode = arguments.values
            result = _frame_worker(path, mode)
        else:
            cases, repeats = arguments.values
            result = _national_worker(int(cases), int(repeats))
        print(json.dumps(result))
        return 0

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("dipcheck", "papermill", "traitlets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    figures = {"machine": machine()}

    if arguments.command == "profile-frame":
        import synthetic

        from dipcheck.frames import read_frame
        from dipcheck.sampling import draw_sample

        path = synthetic.write_case_extract(arguments.workdir, arguments.size)

        def read_and_draw():
            cases = read_frame([path]).cases
            draw_sample(cases, sample_size=FRAME_SAMPLE_SIZE, seed=1, stratify_by=["area"])

        profile(read_and_draw)
        return 0
    if arguments.command == "profile-national":
        import synthetic

        from dipcheck.estimation import estimate_compliance

        answers, design = synthetic.national_answers(arguments.cases)
        profile(lambda: estimate_compliance(answers, design, by=["area"]))
        return 0

    if arguments.command in ("frame", "all"):
        sizes = arguments.sizes if arguments.command == "frame" else FRAME_SIZES
        shuffled = arguments.command == "frame" and arguments.shuffled
        figures["frame"] = benchmark_frame(sizes, arguments.repeats, arguments.workdir, shuffled)
        print("\nLarge frame: read_frame + draw_sample against pandas.read_csv\n")
        print(frame_table(figures["frame"]))
    if arguments.command in ("national", "all"):
        cases = arguments.cases if arguments.command == "national" else NATIONAL_CASES_PER_STRATUM
        figures["national"] = benchmark_national(cases, arguments.repeats)
        print("\nNational roll-up: estimate_compliance against a groupby-sum\n")
        print(national_table(figures["national"]))
    if arguments.command in ("quarter", "all"):
        import quarter_run

        figures["quarter"] = quarter_run.benchmark_quarter(arguments.repeats, arguments.workdir)
        print("\nQuarter run: the demo quarter's notebooks against import-only notebooks\n")
        print(quarter_run.quarter_table(figures["quarter"]))

    if arguments.command == "parallel":
        import quarter_run

        figures["parallel"] = [
            quarter_run.benchmark_parallel(count, arguments.workdir)
            for count in arguments.processes
        ]
        print("\nForces in parallel: whole demo runs, one project copy each\n")
        print(quarter_run.parallel_table(figures["parallel"]))

    print(f"\nMachine: {json.dumps(figures['machine'])}")
    if arguments.json:
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
