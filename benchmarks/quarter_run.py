"""Time the demo quarter's notebook runs against notebooks that only import what they use.

The floor for each of the quarter's notebooks is a notebook with the same parameters cell
and one cell of imports. It imports every module that the real notebook's kernel had
loaded when it finished, less what a bare kernel loads, as found by a probe run. Both are
executed by papermill with the same kernel, so the difference is the work the notebook
does beyond starting a kernel and importing pandas, matplotlib, dipcheck and the rest.

``run.py quarter`` calls `benchmark_quarter`. This file is also the worker that runs in a
fresh process: ``python quarter_run.py demo ROOT OUT.json`` or
``python quarter_run.py floor ROOT OUT.json``.
"""

from __future__ import annotations

import json
import logging
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

logger = logging.getLogger("benchmarks.quarter_run")

ROOT = Path(__file__).resolve().parents[1]
DEMO_QUARTER = "2026-Q3"
TARGET_RATIO = 1.3
TARGET_REPORT_BYTES = 1_500_000
MODULES_VARIABLE = "DIPCHECK_BENCHMARK_MODULES"
KERNEL_NAME = "python3"

_PROBE_CELL = (
    "import json as _json, os as _os, sys as _sys\n"
    f"_folder = _os.environ.get({MODULES_VARIABLE!r})\n"
    "if _folder:\n"
    "    _path = _os.path.join(_folder, {name!r} + '.json')\n"
    "    with open(_path, 'w') as _stream:\n"
    "        _json.dump(sorted(_sys.modules), _stream)\n"
)


def copy_project(destination: Path) -> Path:
    """Copy the project's code, notebooks and inputs, without records, outputs or .venv."""
    if destination.exists():
        shutil.rmtree(destination)
    ignored = shutil.ignore_patterns(".venv", ".git", "__pycache__", "reports", "20??-Q?")
    shutil.copytree(ROOT, destination, ignore=ignored)
    return destination


def add_probe_cells(root: Path) -> None:
    """Append a cell to each notebook of the copy that lists its kernel's loaded modules."""
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source = _PROBE_CELL.replace("{name!r}", repr(path.stem))
        notebook.cells.append(nbformat.v4.new_code_cell(source))
        nbformat.write(notebook, path)


def floor_notebook(real: Path, modules: list[str]) -> nbformat.NotebookNode:
    """Build the import-only twin of a notebook: its parameters cell and one import cell."""
    notebook = nbformat.read(real, as_version=4)
    cells = [
        cell for cell in notebook.cells if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    imports = (
        "import importlib\n\n"
        f"MODULES = {modules!r}\n"
        "for name in MODULES:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:  # a module that exists only as an attribute of another\n"
        "        pass\n"
    )
    cells.append(nbformat.v4.new_code_cell(imports))
    notebook.cells = cells
    return notebook


# Workers, each in a fresh process.


def _demo_worker(root: Path, out: Path) -> None:
    """Run ``dipcheck demo`` on the copy, timing each papermill run and the export."""
    from dipcheck import cli, export, pipeline

    timings = []
    real_run_notebook = pipeline.run_notebook
    real_export = export.export_report

    def timed_run_notebook(project, name, output_path, parameters):
        started = time.perf_counter()
        finished = False
        try:
            result = real_run_notebook(project, name, output_path, parameters)
            finished = True
            return result
        finally:
            timings.append(
                {
                    "notebook": name,
                    "seconds": time.perf_counter() - started,
                    "finished": finished,
                    "parameters": parameters,
                }
            )

    def timed_export(*arguments, **keywords):
        started = time.perf_counter()
        try:
            return real_export(*arguments, **keywords)
        finally:
            timings.append({"notebook": "export", "seconds": time.perf_counter() - started})

    pipeline.run_notebook = timed_run_notebook
    export.export_report = timed_export

    started = time.perf_counter()
    try:
        status = cli.main(["--root", str(root), "-q", "demo"])
    except Exception as error:  # the benchmark records a broken pipeline and carries on
        status = f"{type(error).__name__}: {error}"
    total = time.perf_counter() - started

    report = root / "reports" / DEMO_QUARTER / "report.html"
    result = {
        "status": status,
        "total_seconds": total,
        "timings": timings,
        "report_bytes": report.stat().st_size if report.exists() else None,
        "worker_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "largest_kernel_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    out.write_text(json.dumps(result))


def _floor_worker(root: Path, out: Path) -> None:
    """Execute the floor notebooks written by `benchmark_quarter` as dipcheck runs notebooks.

    `dipcheck.pipeline.run_notebook` runs them, so the floor has the same papermill
    options, kernel manager and working folder as the real runs.
    """
    from dipcheck import pipeline
    from dipcheck.config import Project

    project = Project(root)
    plan = json.loads((root / "floor" / "plan.json").read_text())
    timings = []
    for step in plan:
        name = Path(step["floor"]).name
        executed = root / "floor" / name.replace(".ipynb", ".out.ipynb")
        started = time.perf_counter()
        pipeline.run_notebook(project, name, executed, step["parameters"])
        timings.append({"notebook": step["notebook"], "seconds": time.perf_counter() - started})
    result = {
        "timings": timings,
        "largest_kernel_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    out.write_text(json.dumps(result))


def _run(kind: str, root: Path, environment: dict | None = None) -> dict:
    out = root / f"{kind}-result.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), kind, str(root), str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    if not out.exists():
        raise RuntimeError(f"{kind} worker failed:\n{completed.stderr[-3000:]}")
    result = json.loads(out.read_text())
    result["stderr_tail"] = completed.stderr[-1500:]
    return result


def _bare_kernel_modules(folder: Path) -> set[str]:
    """List the modules a kernel has loaded before running any cell of ours."""
    import os

    import papermill

    from dipcheck import pipeline

    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(_PROBE_CELL.replace("{name!r}", "'bare'")))
    path = folder / "bare.ipynb"
    nbformat.write(notebook, path)
    os.environ[MODULES_VARIABLE] = str(folder)
    try:
        papermill.execute_notebook(
            str(path),
            str(folder / "bare.out.ipynb"),
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            kernel_manager_class=pipeline._kernel_manager_class(),
        )
    finally:
        del os.environ[MODULES_VARIABLE]
    return set(json.loads((folder / "bare.json").read_text()))


def benchmark_quarter(repeats: int, workdir: Path) -> dict:
    """Run the demo `repeats` times and the import-only floor as often, alternately."""
    import os

    root = copy_project(workdir / "quarter-project")
    modules_folder = workdir / "quarter-modules"
    shutil.rmtree(modules_folder, ignore_errors=True)
    modules_folder.mkdir(parents=True)

    # A probe run on a second copy finds the modules each notebook loads.
    probe_root = copy_project(workdir / "quarter-probe")
    add_probe_cells(probe_root)
    probe = _run("demo", probe_root, {**os.environ, MODULES_VARIABLE: str(modules_folder)})
    bare = _bare_kernel_modules(modules_folder)
    logger.info("probe run: status %s, %d notebooks", probe["status"], len(probe["timings"]))

    plan = []
    floor_folder = root / "floor"
    floor_folder.mkdir()
    for step in probe["timings"]:
        if step["notebook"] == "export":
            continue
        name = step["notebook"]
        listed = modules_folder / f"{Path(name).stem}.json"
        if not listed.exists():
            logger.info("%s did not finish in the probe run, so it has no floor", name)
            continue
        modules = sorted(set(json.loads(listed.read_text())) - bare)
        # Next to the real notebooks, where `dipcheck.pipeline.run_notebook` looks.
        floor_path = root / "notebooks" / f"floor-{name}"
        nbformat.write(floor_notebook(root / "notebooks" / name, modules), floor_path)
        plan.append(
            {
                "notebook": name,
                "floor": str(floor_path),
                "parameters": step["parameters"],
                "modules": len(modules),
            }
        )
    (floor_folder / "plan.json").write_text(json.dumps(plan))

    demo_runs = []
    floor_runs = []
    for _ in range(repeats):
        demo_runs.append(_run("demo", root))
        floor_runs.append(_run("floor", root))
    return {"probe_status": probe["status"], "plan": plan, "demo": demo_runs, "floor": floor_runs}


def benchmark_parallel(processes: int, workdir: Path) -> dict:
    """Run the demo in `processes` project copies at once, as separate forces would.

    Each copy has its own records and quarter locks, so the runs share only the CPUs,
    the memory and the disk. Returns each run's figures and the wall-clock time of all.
    """
    roots = [copy_project(workdir / f"parallel-force-{index + 1}") for index in range(processes)]
    outputs = [root / "demo-result.json" for root in roots]
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "demo", str(root), str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for root, out in zip(roots, outputs, strict=True)
    ]
    for process in running:
        process.wait()
    wall = time.perf_counter() - started
    runs = [json.loads(out.read_text()) for out in outputs if out.exists()]
    return {"processes": processes, "wall_seconds": wall, "runs": runs}


def parallel_table(results: list[dict]) -> str:
    """Format the wall-clock time and peak memory of each number of parallel runs."""
    lines = [
        "| demo runs at once | wall clock (s) | per run (s) | statuses "
        "| peak RSS per dipcheck process (MiB) | largest kernel (MiB) |",
        "|---:|---:|---:|---|---:|---:|",
    ]
    for result in results:
        runs = result["runs"]
        statuses = ", ".join(str(run["status"]) for run in runs)
        worker = max(run["worker_peak_mib"] for run in runs)
        kernel = max(run["largest_kernel_peak_mib"] for run in runs)
        lines.append(
            f"| {result['processes']} | {result['wall_seconds']:.0f} "
            f"| {result['wall_seconds'] / result['processes']:.0f} | {statuses} "
            f"| {worker:.0f} | {kernel:.0f} |"
        )
    return "\n".join(lines)


def quarter_table(result: dict) -> str:
    """Format the best time of each notebook and its floor, and the report size."""
    lines = [
        "| notebook | modules imported by the floor | run (s) | floor (s) | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    total_run = 0.0
    total_floor = 0.0
    for step in result["plan"]:
        name = step["notebook"]
        # A notebook that failed part-way would look fast, so only finished runs count.
        run = min(
            (
                timing["seconds"]
                for demo in result["demo"]
                for timing in demo["timings"]
                if timing["notebook"] == name and timing.get("finished", True)
            ),
            default=float("nan"),
        )
        floor = min(
            (
                timing["seconds"]
                for floor_run in result["floor"]
                for timing in floor_run["timings"]
                if timing["notebook"] == name
            ),
            default=float("nan"),
        )
        total_run += run
        total_floor += floor
        lines.append(
            f"| {name} | {step['modules']} | {run:.1f} | {floor:.1f} | {run / floor:.2f} |"
        )
    if result["plan"]:
        lines.append(
            f"| all notebooks | | {total_run:.1f} | {total_floor:.1f} "
            f"| {total_run / total_floor:.2f} |"
        )

    lines.append("")
    lines.append(f"Target: ratio of all notebooks at most {TARGET_RATIO}.")
    statuses = [demo["status"] for demo in result["demo"]]
    exports = [
        timing["seconds"]
        for demo in result["demo"]
        for timing in demo["timings"]
        if timing["notebook"] == "export"
    ]
    sizes = [demo["report_bytes"] for demo in result["demo"] if demo["report_bytes"]]
    lines.append(f"Demo exit statuses: {statuses}.")
    if exports:
        lines.append(f"HTML export (nbconvert, not a papermill run): {min(exports):.1f} s.")
    if sizes:
        lines.append(
            f"report.html: {max(sizes) / 1e6:.2f} MB (target {TARGET_REPORT_BYTES / 1e6} MB)."
        )
    else:
        lines.append("report.html was not written, so its size is not measured.")
    peaks = [demo["largest_kernel_peak_mib"] for demo in result["demo"]]
    workers = [demo["worker_peak_mib"] for demo in result["demo"]]
    lines.append(
        f"Peak RSS: dipcheck process {max(workers):.0f} MiB, largest kernel {max(peaks):.0f} MiB."
    )
    return "\n".join(lines)


def main(arguments: list[str]) -> int:
    kind, root, out = arguments
    if kind == "demo":
        _demo_worker(Path(root), Path(out))
    else:
        _floor_worker(Path(root), Path(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
