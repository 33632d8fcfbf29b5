#!/usr/bin/python3
"""How long Compact holds writes: the page copy against the repacked copy.

For each build directory given (interleaved, RUNS times): a fresh
hartonomousd ingests each of the 10,000 Fashion-MNIST test images as a
28x28 PGM document of its own, cut into 4x4 and then into 7x7 patches
(`ingest-doc --patch 4`, `--patch 7`: about 150 MB of data file, mostly
small atom records); then `compact` twice. Prints the data file's size
before and after and the server's `duration_ms` of each compaction
(writes wait for the whole of it). A build older than the repacked copy
reports tables_repacked false (LMDB's page copy).

  client/bench/compact_time_bench.py BUILD_DIR [BUILD_DIR...]

Environment: RUNS=2  TMPDIR (data dirs go there; must be a real disk)
"""
import os, platform, shutil, statistics, sys, tempfile, time

from bench_corpora import fashion_mnist_images
from bench_daemon import Daemon

RUNS = int(os.environ.get("RUNS", "2"))


def main():
    builds = sys.argv[1:] or ["build"]
    work = tempfile.mkdtemp(prefix="hcompact.", dir=os.environ.get("TMPDIR", "/tmp"))
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = os.getloadavg()
    results = {b: [] for b in builds}
    try:
        files = fashion_mnist_images(work)
        for run in range(RUNS):
            for build in builds:
                d = Daemon(build, work)
                d.run("ingest-doc", "--patch", "4", *files)
                d.run("ingest-doc", "--patch", "7", *files)
                size = os.path.getsize(os.path.join(d.data, "data.mdb"))
                first = d.run("compact")
                second = d.run("compact")
                d.stop()
                shutil.rmtree(d.data)
                results[build].append((size, first, second))
                print("run %d %s: %.1f -> %.1f MB, %d ms, again %d ms" % (
                    run + 1, build, size / 1e6, first["file_bytes_after"] / 1e6,
                    first["duration_ms"], second["duration_ms"]), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    print("- Machine: %s, %d cores, Linux %s; date %s; load average %.2f at start, %.2f at end"
          % (cpu, os.cpu_count(), platform.release(), start, load_start[0], load_end[0]))
    print("- Command: `RUNS=%d client/bench/compact_time_bench.py %s`; medians of %d runs\n"
          % (RUNS, " ".join(builds), RUNS))
    print("| build | copy | data.mdb MB before | after MB | compact ms | again ms | MB/s of the result |")
    print("|---|---|---|---|---|---|---|")
    for build, rs in results.items():
        med = lambda f: statistics.median(f(r) for r in rs)
        after = med(lambda r: r[1]["file_bytes_after"])
        ms = med(lambda r: r[1]["duration_ms"])
        print("| %s | %s | %.1f | %.1f | %.0f | %.0f | %.0f |" % (
            os.path.basename(build.rstrip("/")),
            "repacked" if rs[0][1].get("tables_repacked") else "pages", med(lambda r: r[0]) / 1e6,
            after / 1e6, ms, med(lambda r: r[2]["duration_ms"]), after / 1e6 / (ms / 1e3)))


if __name__ == "__main__":
    main()
