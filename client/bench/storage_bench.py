#!/usr/bin/python3
"""On-disk size of real data: before/after builds in one run.

For each build directory given, and for each of RUNS runs: a fresh
hartonomousd, the license texts (/usr/share/common-licenses/*) and every
/usr/share/doc/*/copyright ingested, once as documents (`hartonomous
ingest-doc`, one CLI run) and, on another fresh daemon, once as whole-file
atoms (`hartonomous ingest`); then, on a third, each of the 10,000
Fashion-MNIST test images as a document of its own (a 28x28 PGM file made
from /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz) cut into
7x7 patches (`ingest-doc --patch 7`). It records the data.mdb file size as
ingested, runs `hartonomous compact`, and after a clean shutdown records the
compacted file's size, the pages in use and `mdb_stat -a` per table
(lmdb-utils). Prints a Markdown section for docs/benchmarks.md; sizes are
deterministic for a build up to the free pages of concurrent commits,
times are medians.

  client/bench/storage_bench.py BUILD_DIR [BUILD_DIR...]   (label = dir name)

Environment: RUNS=3  TMPDIR (data dirs go there; must be a real disk)
"""
import glob, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

from bench_corpora import fashion_mnist_images
from bench_daemon import Daemon

RUNS = int(os.environ.get("RUNS", "3"))
FILES = (sorted(p for p in glob.glob("/usr/share/common-licenses/*") if os.path.isfile(p)) +
         sorted(p for p in glob.glob("/usr/share/doc/*/copyright") if os.path.isfile(p)))
RAW = sum(os.path.getsize(p) for p in FILES)


def unique_bytes():
    seen = {}
    for p in FILES:
        with open(p, "rb") as f:
            seen[f.read()] = True
    return sum(len(b) for b in seen)


def run_once(build, mode, work):
    name, args, files = mode
    with Daemon(build, work) as daemon:
        data = daemon.data
        t0 = time.monotonic()
        subprocess.run(daemon.cli + args + files, check=True, stdout=subprocess.DEVNULL)
        seconds = time.monotonic() - t0
        stats = daemon.run("stats")
        size = os.path.getsize(os.path.join(data, "data.mdb"))
        compacted = daemon.run("compact")
        daemon.stop()
    size_compacted = os.path.getsize(os.path.join(data, "data.mdb"))
    out = subprocess.run(["mdb_stat", "-a", "-e", data], check=True, capture_output=True,
                         text=True).stdout
    # Per table: pages (branch + leaf + overflow) * page size.
    tables, name, psize = {}, "(main)", 4096
    last_page = 0
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Page size:"):
            psize = int(line.split()[-1])
        elif line.startswith("Number of pages used:"):
            last_page = int(line.split()[-1])
        elif line.startswith("Status of "):
            name = line[len("Status of "):]
        elif re.match(r"(Branch|Leaf|Overflow) pages:", line):
            tables[name] = tables.get(name, 0) + int(line.split()[-1]) * psize
        elif line.startswith("Entries:"):
            tables.setdefault(name + " entries", int(line.split()[-1]))
    shutil.rmtree(data)
    return {"seconds": seconds, "file": size, "compacted": size_compacted,
            "repacked": compacted.get("tables_repacked", False), "used": last_page * psize,
            "tables": tables, "stats": stats}


def main():
    builds = sys.argv[1:] or ["build"]
    work = tempfile.mkdtemp(prefix="hstorbench.", dir=os.environ.get("TMPDIR", "/tmp"))
    load_start = os.getloadavg()
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = {}
    images = fashion_mnist_images(work)
    modes = [("ingest-doc", ["ingest-doc"], FILES), ("ingest", ["ingest"], FILES),
             ("Fashion-MNIST images, ingest-doc --patch 7", ["ingest-doc", "--patch", "7"], images)]
    raw = {"ingest-doc": RAW, "ingest": RAW,
           modes[2][0]: sum(os.path.getsize(p) for p in images)}
    try:
        for run in range(RUNS):
            for build in builds:  # interleaved, so load drifts hit every build alike
                for mode in modes:
                    r = run_once(build, mode, work)
                    results.setdefault((build, mode[0]), []).append(r)
                    print("run %d %s %s: %.1f MB in %.2f s" % (run + 1, build, mode[0],
                                                               r["file"] / 1e6, r["seconds"]),
                          file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print("## On-disk size: licenses and copyright files")
    print()
    print("- Input: %d files (/usr/share/common-licenses/* and /usr/share/doc/*/copyright), "
          "%.2f MB raw, %.2f MB of distinct files" % (len(FILES), RAW / 1e6, unique_bytes() / 1e6))
    print("- Fashion-MNIST images: %d PGM files, %.2f MB raw" % (len(images), raw[modes[2][0]] / 1e6))
    print("- Machine: %s, %d cores, Linux %s; date %s; load average %.2f at start, %.2f at end"
          % (cpu, os.cpu_count(), platform.release(), start, load_start[0], load_end[0]))
    print("- Command: `RUNS=%d client/bench/storage_bench.py %s`; times are medians of %d runs; "
          "sizes were identical across runs unless two values are shown" % (RUNS, " ".join(builds), RUNS))
    print()
    print("| build | mode | data.mdb MB | x raw | compacted MB | x raw | table pages MB | stored MB (stats) | unique MB (stats) | seconds (median) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (build, mode), rs in results.items():
        files = sorted({r["file"] for r in rs})
        total = rs[0]["stats"].get("total", {})
        stored = total.get("stored_bytes")
        pages = statistics.median(sum(v for k, v in r["tables"].items() if not k.endswith(" entries"))
                                  for r in rs)
        compacted = statistics.median(r["compacted"] for r in rs)
        print("| %s | %s | %s | %.2f | %.2f%s | %.2f | %.2f | %s | %.1f | %.2f |" % (
            os.path.basename(build.rstrip("/")), mode, " / ".join("%.1f" % (f / 1e6) for f in files),
            files[-1] / raw[mode], compacted / 1e6, "" if rs[0]["repacked"] else " (pages copied)",
            compacted / raw[mode], pages / 1e6,
            "-" if stored is None else "%.1f" % (stored / 1e6), total.get("unique_bytes", 0) / 1e6,
            statistics.median(r["seconds"] for r in rs)))
    print()
    print("Pages per table after the compaction (MB, `mdb_stat -a`: branch + leaf + overflow pages x page size):")
    print()
    keys = list(results)
    names = sorted({n for k in keys for n in results[k][0]["tables"] if not n.endswith(" entries")},
                   key=lambda n: -max(results[k][0]["tables"].get(n, 0) for k in keys))
    print("| table | " + " | ".join("%s %s" % (os.path.basename(b.rstrip("/")), m) for b, m in keys) + " |")
    print("|---|" + "---|" * len(keys))
    for n in names:
        if not any(results[k][0]["tables"].get(n, 0) for k in keys):
            continue  # tables without pages
        print("| %s | " % n + " | ".join(
            "%.2f (%s rows)" % (results[k][0]["tables"].get(n, 0) / 1e6,
                                results[k][0]["tables"].get(n + " entries", 0)) for k in keys) + " |")


if __name__ == "__main__":
    main()
