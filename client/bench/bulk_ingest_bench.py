#!/usr/bin/python3
"""Bulk document ingest throughput: `hartonomous ingest-doc -r DIR` end to end.

For each --jobs value and each of RUNS runs: a fresh hartonomousd (durable
commits, its default) on an ephemeral port with a data dir under TMPDIR, then
one `ingest-doc -r DIR --json` run timed from the CLI's start to its exit.
Reports the files, the bytes read, the median wall time and MB/s (10^6
bytes per second of file content), and how the files fared (created,
failed, ...). Prints a Markdown table for docs/benchmarks.md.

  client/bench/bulk_ingest_bench.py BUILD_DIR [DIR] [JOBS...]
      DIR default /usr/share/doc; JOBS default "1 default" (default = the
      CLI's own default, 64 documents in flight)

Environment: RUNS=3  TMPDIR (data dirs go there; must be a real disk)
"""
import json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

from bench_daemon import Daemon

RUNS = int(os.environ.get("RUNS", "3"))


def run_once(build, directory, jobs, work):
    with Daemon(build, work) as daemon:
        cli = daemon.cli + ["ingest-doc", "-r", directory]
        if jobs != "default":
            cli += ["--jobs", jobs]
        t0 = time.monotonic()
        run = subprocess.run(cli, capture_output=True, text=True)
        seconds = time.monotonic() - t0
        if run.returncode not in (0, 1):
            sys.exit("ingest-doc failed (%d): %s" % (run.returncode, run.stderr[-2000:]))
        out = json.loads(run.stdout)
        daemon.stop()
    shutil.rmtree(daemon.data, ignore_errors=True)
    return seconds, out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    directory = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/doc"
    jobs_list = sys.argv[3:] or ["1", "default"]
    work = tempfile.mkdtemp(prefix="bulk-bench.")
    try:
        print("Machine: %s, %d cores, %s; %s" % (platform.processor() or platform.machine(),
                                                 os.cpu_count(), platform.platform(),
                                                 time.strftime("%Y-%m-%d")))
        print("Command: hartonomous --json ingest-doc -r %s [--jobs N]; %d runs each, fresh "
              "hartonomousd per run\n" % (directory, RUNS))
        print("| --jobs | files | ok | failed | MB read | median s | MB/s (median) | runs (s) |")
        print("|---|---|---|---|---|---|---|---|")
        for jobs in jobs_list:
            runs = [run_once(build, directory, jobs, work) for _ in range(RUNS)]
            seconds = [s for s, _ in runs]
            out = runs[0][1]
            ok = out["created"] + out["reused"] + out["replaced"] + out["unchanged"]
            mb = out["bytes"] / 1e6
            median = statistics.median(seconds)
            print("| %s | %d | %d | %d | %.1f | %.2f | %.1f | %s |" %
                  (jobs, out["files"], ok, out["failed"], mb, median, mb / median,
                   ", ".join("%.2f" % s for s in seconds)))
            sys.stdout.flush()
            reasons = {}
            for f in out["failures"]:
                key = re.sub(r"'.*'", "'...'", f["error"])[:90]
                reasons[key] = reasons.get(key, 0) + 1
            for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:5]:
                print("  failed x%d: %s" % (n, reason), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
