"""`make load`: the product under load on this machine.

1. Recreates the load database (`LOAD_DATABASE_URL`, default `platform_load`; its name must contain
   "load", as it is dropped), migrates it and seeds it (`load/seed.py`: the demo data plus several
   programs with many people, sessions, attendance and applications), and collects static files.
2. Starts the product with production settings on loopback: gunicorn (`LOAD_WEB_WORKERS`, default 4,
   with `config/gunicorn.py` when it exists) and a Celery worker on Redis (`LOAD_BROKER_URL`, the
   cache on `LOAD_CACHE_URL`).
3. Drives it from a second process with locust, headless (`load/locustfile.py`: catalog pages and
   API, my sessions, applications, signed inbound webhooks, program analytics):
   `LOAD_USERS` (50) people for `LOAD_DURATION` (75s), `LOAD_SPAWN_RATE` (10/s).
4. Prints requests per second, p50/p95/p99 and the error rate per request kind, for the reads and
   overall, and writes them as JSON lines to `var/load/results.jsonl`.
5. Stops everything it started (also on Ctrl-C or a failure) and exits 1 when there were errors or
   a read kind's p95 is over `LOAD_READ_P95_MS` (200).

`LOAD_SEED=0` reuses the seeded database and fixture of the previous run (reruns the drive only;
the applications use writer/program pairs earlier runs did not use). `LOAD_SEED_ARGS` passes
options to `load/seed.py` (smaller or larger datasets).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "load"
VENV = ROOT / ".venv" / "bin"
READS = ("page.catalog", "page.program", "api.catalog.list", "api.catalog.detail", "api.me.sessions")


def env(name: str, default: str) -> str:
    return os.environ.get(name) or default


DATABASE_URL = env("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform_load")
BROKER_URL = env("LOAD_BROKER_URL", "redis://127.0.0.1:6379/13")
CACHE_URL = env("LOAD_CACHE_URL", "redis://127.0.0.1:6379/12")
PORT = int(env("LOAD_PORT", "8765"))
WEB_WORKERS = env("LOAD_WEB_WORKERS", "4")
USERS = env("LOAD_USERS", "50")
SPAWN_RATE = env("LOAD_SPAWN_RATE", "10")
DURATION = env("LOAD_DURATION", "75s")
READ_P95_MS = float(env("LOAD_READ_P95_MS", "200"))
SEED_ARGS = env("LOAD_SEED_ARGS", "").split()

started: list[subprocess.Popen] = []
LOADAVG: dict[str, float] = {}  # the machine's 1-minute load average before and after the drive
CPU: dict[str, float] = {}  # CPU seconds gunicorn (master and workers) spent during the drive


def postgres_seconds() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL process on this machine (every database's)."""
    import psutil

    seconds = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] in ("postgres", "postmaster") and process.info["cpu_times"]:
            times = process.info["cpu_times"]
            seconds[process.pid] = times.user + times.system
    return seconds


def reaped_seconds() -> float:
    """CPU seconds of this process's children that ended and were waited for."""
    times = os.times()
    return times.children_user + times.children_system


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling, since boot."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0)


def cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU seconds of a process and its children so far."""
    import psutil

    total = 0.0
    try:
        parent = psutil.Process(process.pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for each in family:
        with contextlib.suppress(psutil.Error):
            times = each.cpu_times()
            total += times.user + times.system + (times.children_user + times.children_system if each is parent else 0)
    return total


def say(text: str) -> None:
    sys.stderr.write(f"load: {text}\n")
    sys.stderr.flush()


def product_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": CACHE_URL,
        "SECRET_KEY": "load-run-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(OUT / "staticfiles"),
        "SITE_URL": f"http://127.0.0.1:{PORT}",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def run(args: list[str], **kwargs) -> None:
    subprocess.run(args, check=True, cwd=ROOT, **kwargs)


def start(args: list[str], log: str, **kwargs) -> subprocess.Popen:
    """A child in its own process group (stopped as a group in `stop_all`), output to var/load/<log>."""
    out = open(OUT / log, "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
    started.append(process)
    return process


def stop_all() -> None:
    for process in reversed(started):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
    deadline = time.monotonic() + 20
    for process in reversed(started):
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"pid {process.pid} did not stop in time: killing its group")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    started.clear()


def recreate_database() -> None:
    import psycopg

    server, name = DATABASE_URL.rsplit("/", 1)
    if "load" not in name:
        raise SystemExit(f"LOAD_DATABASE_URL names '{name}': its name must contain 'load' (it is dropped).")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare(environ: dict[str, str]) -> None:
    fixture = OUT / "fixture.json"
    if env("LOAD_SEED", "1") == "0" and fixture.exists():
        say(f"reusing the seeded database and {fixture}")
        return
    say(f"recreating {DATABASE_URL.rsplit('/', 1)[1]}, migrating, seeding (a few minutes)")
    recreate_database()
    run([str(VENV / "python"), "manage.py", "migrate", "--no-input", "-v0"], env=environ)
    run([str(VENV / "python"), "load/seed.py", "--out", str(fixture), *SEED_ARGS], env=environ)
    run([str(VENV / "python"), "manage.py", "collectstatic", "--no-input", "-v0"], env=environ)
    # Tasks the seeding queued (the demo data's): the worker takes them before the drive starts.


def serve(environ: dict[str, str]) -> None:
    gunicorn = [str(VENV / "gunicorn"), "config.wsgi:application"]
    if (ROOT / "config" / "gunicorn.py").exists():
        gunicorn += ["-c", "config/gunicorn.py"]
    gunicorn += [
        "--bind",
        f"127.0.0.1:{PORT}",
        "--workers",
        WEB_WORKERS,
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--log-level",
        "warning",
    ]
    start(gunicorn, "gunicorn.log", env=environ)
    start(
        [str(VENV / "celery"), "-A", "config", "worker", "--concurrency=2", "--loglevel=WARNING", "--without-mingle"],
        "worker.log",
        env=environ,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for process in started:
            if process.poll() is not None:
                raise SystemExit(f"{process.args[0]} exited with {process.returncode}: see var/load/*.log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=2) as response:
                if response.status == 200:
                    say(f"gunicorn ({WEB_WORKERS} workers) and a Celery worker are up on 127.0.0.1:{PORT}")
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("The product did not answer /health within 60 s: see var/load/gunicorn.log")


def drive(environ: dict[str, str]) -> Path:
    samples = OUT / "samples.json"
    samples.unlink(missing_ok=True)
    LOADAVG["before"] = round(os.getloadavg()[0], 2)
    CPU.update(
        web=cpu_seconds(started[0]),
        worker=cpu_seconds(started[1]),
        machine=machine_busy_seconds(),
        reaped=reaped_seconds(),
    )
    postgres_before = postgres_seconds()
    say(f"locust: {USERS} people, {SPAWN_RATE}/s, for {DURATION} (load average {LOADAVG['before']})")
    driver = start(
        [
            str(VENV / "locust"),
            "-f",
            "load/locustfile.py",
            "--headless",
            "--users",
            USERS,
            "--spawn-rate",
            SPAWN_RATE,
            "--run-time",
            DURATION,
            "--host",
            f"http://127.0.0.1:{PORT}",
            "--only-summary",
            "--stop-timeout",
            "10",
            "--csv",
            str(OUT / "locust"),
        ],
        "locust.log",
        env={**os.environ, "LOAD_FIXTURE": str(OUT / "fixture.json"), "LOAD_SAMPLES": str(samples)},
    )
    driver.wait()
    LOADAVG["after"] = round(os.getloadavg()[0], 2)
    CPU.update(
        web=cpu_seconds(started[0]) - CPU["web"],
        worker=cpu_seconds(started[1]) - CPU["worker"],
        machine=machine_busy_seconds() - CPU["machine"],
        driver=reaped_seconds() - CPU["reaped"],  # locust, waited for above
        postgres=sum(value - postgres_before.get(pid, 0.0) for pid, value in postgres_seconds().items()),
    )
    if samples.exists():  # the writer/program pairs this run used are not offered again
        fixture = OUT / "fixture.json"
        data = json.loads(fixture.read_text())
        data["pairs_used"] = data.get("pairs_used", 0) + json.loads(samples.read_text()).get("pairs", 0)
        fixture.write_text(json.dumps(data, indent=1))
    if not samples.exists():
        raise SystemExit(f"locust wrote no samples (exit {driver.returncode}): see var/load/locust.log")
    return samples


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return 0.0
    rank = max(1, -(-len(values) * p // 100))
    return values[int(rank) - 1]


def figures(samples: Path) -> list[dict]:
    data = json.loads(samples.read_text())
    seconds = max(1e-9, (data["stop"] or time.time()) - data["start"])
    order = [*READS, "api.apply.create", "api.apply.submit", "webhook.inbound", "api.analytics.program"]
    groups: dict[str, list] = {name: [] for name in order}
    for name, ms, failed in data["samples"]:
        groups.setdefault(name, []).append((ms, failed))
    groups = {name: items for name, items in groups.items() if items}
    groups["reads (all read kinds)"] = [s for name in READS for s in groups.get(name, [])]
    groups["overall"] = [(ms, failed) for name, ms, failed in data["samples"]]
    rows = []
    for name, items in groups.items():
        times = sorted(ms for ms, _ in items)
        errors = sum(1 for _, failed in items if failed)
        read = name in READS or name.startswith("reads")
        row = {
            "name": f"load.{name.split(' ')[0]}",
            "requests": len(items),
            "rps": round(len(items) / seconds, 1),
            "p50_ms": round(percentile(times, 50), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "p99_ms": round(percentile(times, 99), 1),
            "max_ms": round(times[-1], 1) if times else 0.0,
            "errors": errors,
            "error_rate": round(errors / len(items), 4) if items else 0.0,
            "target_p95_ms": READ_P95_MS if read else None,
            "users": int(USERS),
            "seconds": round(seconds, 1),
        }
        if name == "overall":
            row.update(
                cores=os.cpu_count(),
                loadavg_before=LOADAVG.get("before"),
                loadavg_after=LOADAVG.get("after"),
                web_cpu_ms_per_request=round(1000 * CPU.get("web", 0) / len(items), 1) if items else None,
                cpu_seconds={key: round(value, 1) for key, value in CPU.items() if key != "reaped"},
            )
        rows.append(row)
    return rows


def report(rows: list[dict]) -> bool:
    results = OUT / "results.jsonl"
    with results.open("w") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
            sys.stdout.write(json.dumps(row) + "\n")
    header = f"{'kind':28} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    sys.stdout.write("\n" + header + "\n" + "-" * len(header) + "\n")
    ok = True
    for row in rows:
        missed = row["target_p95_ms"] is not None and row["p95_ms"] > row["target_p95_ms"]
        ok = ok and not missed and not (row["name"] == "load.overall" and row["errors"])
        sys.stdout.write(
            f"{row['name'][5:]:28} {row['requests']:>8} {row['rps']:>7} {row['p50_ms']:>8} {row['p95_ms']:>8} "
            f"{row['p99_ms']:>8} {row['errors']:>7}{'  p95 over target' if missed else ''}\n"
        )
    overall = next(row for row in rows if row["name"] == "load.overall")
    sys.stdout.write(
        f"\n{overall['requests']} requests in {overall['seconds']} s ({overall['rps']} req/s), "
        f"error rate {overall['error_rate']:.2%}, load average {overall['loadavg_before']} -> "
        f"{overall['loadavg_after']} on {overall['cores']} cores, gunicorn CPU "
        f"{overall['web_cpu_ms_per_request']} ms per request; reads p95 target {READ_P95_MS:g} ms: "
        f"{'met' if ok else 'NOT met'}. JSON lines: {results}\n"
    )
    return ok


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)

    def terminate(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # also when started with SIGINT ignored
        signal.signal(signum, terminate)
    environ = product_env()
    try:
        prepare(environ)
        serve(environ)
        samples = drive(environ)
    except KeyboardInterrupt:
        say("interrupted: stopping what was started")
        return 130
    finally:
        stop_all()
    return 0 if report(figures(samples)) else 1


if __name__ == "__main__":
    sys.exit(main())
