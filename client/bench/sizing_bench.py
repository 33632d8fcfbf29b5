#!/usr/bin/python3
"""Sizing, measured: RAM per million vectors and disk per million atoms.

Every point runs on a fresh hartonomousd (bench_daemon.Daemon: durable
commits, the daemon's defaults) with its data dir under TMPDIR.

Vectors: for each (dimension, index, N) point, N small text atoms
("vector 17") are ingested first (IngestAtoms, 100,000 atoms per stream),
then a collection is created (cosine, default M = 16 / ef_construction =
200 for hnsw) and the N vectors added with `hartonomous add-embeddings
COLLECTION CHUNK.npy --atoms A-B` (one stream per chunk of at most 16 MiB of
vectors). The vectors come from Fashion-MNIST (the 70,000 train + test
images of Debian's dataset-fashion-mnist, pixels / 255): row i is image
i mod 70,000 with its 784 pixels in a fixed random order, truncated to the
dimension (d < 784) or tiled with further random orders of the same pixels
(d > 784), plus Gaussian noise (sigma 0.05), so that repeated images are
distinct vectors. Measured after the daemon reports all N vectors in the
index: the collection's memory_bytes (GetCollection), the daemon's VmRSS
growth over the embeddings (/proc/PID/status, before: after the atoms were
ingested and the collection created), the growth of the LMDB pages in use
(GetStats data_file_bytes - free_bytes) and, after a clean stop, the index
snapshot files; the time is that of the add-embeddings runs.

Atoms: ATOMS text atoms (modality text, canonical_text = content, as the
CLI sends text) made of the non-empty lines of /usr/share/common-licenses/*
and /usr/share/doc/*/copyright, (a) made unique by appending " #<counter>",
(b) as they are, in file order, repeated until ATOMS lines were sent
(realistic duplication). Measured: LMDB pages in use, data.mdb's size after
a clean stop, and the content as stored (GetDedupStats stored_bytes).

Prints a Markdown section for docs/benchmarks.md; progress goes to stderr.

  client/bench/sizing_bench.py BUILD_DIR

Environment: POINTS="DIM:INDEX:N ..." ("" = none; default: d 128 at two N,
for a linearity check, 384, 768 and 1998 with hnsw, 768 with flat; N are
1,024 x 2^k, where an hnsw index's capacity, which doubles from 1,024,
equals N)  ATOMS=1000000 (0 = none)  RUNS=1 (runs per point; medians are
reported)  TMPDIR (a real disk)
"""
import glob, gzip, os, platform, shutil, statistics, subprocess, sys, tempfile, time

import grpc
import numpy as np

from bench_daemon import Daemon

HERE = os.path.dirname(os.path.abspath(__file__))
POINTS_SPEC = os.environ.get("POINTS", "128:hnsw:65536 128:hnsw:262144 384:hnsw:131072 "
                             "768:hnsw:131072 1998:hnsw:65536 768:flat:131072")
POINTS = [(int(d), kind, int(n)) for d, kind, n in (p.split(":") for p in POINTS_SPEC.split())]
ATOMS = int(os.environ.get("ATOMS", "1000000"))
RUNS = int(os.environ.get("RUNS", "1"))
ATOMS_PER_STREAM = 100000
CHUNK_BYTES = 16 << 20
MNIST = "/usr/share/datasets/fashion-mnist"
TEXT_FILES = (sorted(p for p in glob.glob("/usr/share/common-licenses/*") if os.path.isfile(p)) +
              sorted(p for p in glob.glob("/usr/share/doc/*/copyright") if os.path.isfile(p)))


def stubs(work):
    """The generated hartonomous.v1 modules (protoc + grpc_python_plugin)."""
    proto = os.path.join(HERE, "..", "..", "proto")
    gen = os.path.join(work, "gen")
    os.makedirs(gen)
    protos = sorted(os.path.join("hartonomous", "v1", f)
                    for f in os.listdir(os.path.join(proto, "hartonomous", "v1"))
                    if f.endswith(".proto"))
    subprocess.run(["protoc", "-I", proto, "--python_out", gen, "--grpc_out", gen,
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin"] + protos, check=True)
    sys.path.insert(0, gen)
    from hartonomous.v1 import admin_service_pb2, admin_service_pb2_grpc
    from hartonomous.v1 import atom_service_pb2, atom_service_pb2_grpc
    from hartonomous.v1 import search_service_pb2, search_service_pb2_grpc
    return {"admin": admin_service_pb2, "admin_rpc": admin_service_pb2_grpc,
            "atom": atom_service_pb2, "atom_rpc": atom_service_pb2_grpc,
            "search": search_service_pb2, "search_rpc": search_service_pb2_grpc}


class Session:
    """gRPC stubs against one daemon."""

    def __init__(self, pb, daemon):
        self.pb, self.daemon = pb, daemon
        channel = grpc.insecure_channel(daemon.address,
                                        options=[("grpc.max_receive_message_length", 512 << 20)])
        self.channel = channel
        self.atoms = pb["atom_rpc"].AtomServiceStub(channel)
        self.search = pb["search_rpc"].SearchServiceStub(channel)
        self.admin = pb["admin_rpc"].AdminServiceStub(channel)

    def ingest(self, contents):
        """contents (bytes), ATOMS_PER_STREAM per IngestAtoms stream; the atom ids."""
        atom = self.pb["atom"]
        ids = []
        for start in range(0, len(contents), ATOMS_PER_STREAM):
            part = contents[start:start + ATOMS_PER_STREAM]

            def messages():
                for i in range(0, len(part), 2000):
                    yield atom.IngestAtomsRequest(atoms=[
                        atom.IngestAtomRequest(content=c, modality="text",
                                               canonical_text=c.decode("utf-8", "replace"))
                        for c in part[i:i + 2000]])
            response = self.atoms.IngestAtoms(messages(), timeout=3600)
            ids.extend(r.atom_id for r in response.results)
        return ids

    def used(self):
        """LMDB pages in use: data_file_bytes - free_bytes (GetStats)."""
        s = self.admin.GetStats(self.pb["admin"].GetStatsRequest(), timeout=600)
        return s.data_file_bytes - s.free_bytes

    def dedup(self):
        return self.atoms.GetDedupStats(self.pb["atom"].GetDedupStatsRequest(), timeout=600)

    def collection(self, name):
        return self.search.GetCollection(self.pb["search"].GetCollectionRequest(name=name),
                                         timeout=600)

    def close(self):
        self.channel.close()


def rss(pid):
    """VmRSS, RssAnon (heap), RssFile (mapped file pages: LMDB's data file) and
    VmHWM of a process, bytes."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def id_ranges(ids):
    """Atom ids as the CLI's --atoms list: 3,4,10-12."""
    out, start, prev = [], ids[0], ids[0]
    for i in ids[1:] + [None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        out.append(str(start) if start == prev else "%d-%d" % (start, prev))
        if i is not None:
            start = prev = i
    return ",".join(out)


def fashion_mnist():
    """The 70,000 Fashion-MNIST images as float32 rows of 784 pixels / 255."""
    rows = []
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        with gzip.open(os.path.join(MNIST, name)) as f:
            data = f.read()
        rows.append(np.frombuffer(data, dtype=np.uint8, offset=16).reshape(-1, 784))
    return np.concatenate(rows).astype(np.float32) / 255.0


def vectors(images, d, start, count, rng_seed=7):
    """Rows start..start+count of the dimension-d data set (see the module doc)."""
    rng = np.random.default_rng(rng_seed)
    orders = np.concatenate([rng.permutation(784) for _ in range((d + 783) // 784)])[:d]
    base = images[np.arange(start, start + count) % len(images)][:, orders]
    noise = np.random.default_rng(start * 31 + d).standard_normal((count, d), dtype=np.float32)
    return base + 0.05 * noise


def vector_point(pb, build, work, images, d, kind, n):
    with Daemon(build, work) as daemon:
        s = Session(pb, daemon)
        ids = s.ingest([b"vector %d" % i for i in range(n)])
        rows_per_chunk = max(1, CHUNK_BYTES // (4 * d))
        files = []
        for start in range(0, n, rows_per_chunk):
            count = min(rows_per_chunk, n - start)
            path = os.path.join(work, "chunk%d.npy" % len(files))
            np.save(path, vectors(images, d, start, count))
            files.append((path, id_ranges(ids[start:start + count])))
        daemon.run("collections", "create", "v", "--dim", str(d), "--index", kind,
                   "--metric", "cosine")
        used0, mem0 = s.used(), rss(daemon.proc.pid)
        t0 = time.monotonic()
        for path, atoms in files:
            daemon.run("add-embeddings", "v", path, "--atoms", atoms)
        while s.collection("v").vector_count < n:  # the index applies commits in order
            time.sleep(0.2)
        seconds = time.monotonic() - t0
        c = s.collection("v")
        used1, mem1 = s.used(), rss(daemon.proc.pid)
        s.close()
        for path, _ in files:
            os.remove(path)
        data = daemon.data
        file_size = daemon.stop()
    snapshots = sum(os.path.getsize(p) for p in glob.glob(os.path.join(data, "vector_indexes", "**"),
                                                          recursive=True) if os.path.isfile(p))
    shutil.rmtree(data, ignore_errors=True)
    return {"memory_bytes": c.memory_bytes, "rss": mem1["VmRSS"] - mem0["VmRSS"],
            "anon": mem1["RssAnon"] - mem0["RssAnon"], "filemap": mem1["RssFile"] - mem0["RssFile"],
            "hwm": mem1["VmHWM"], "lmdb": used1 - used0, "snapshot": snapshots,
            "seconds": seconds, "file": file_size}


def text_lines():
    lines = []
    for p in TEXT_FILES:
        with open(p, "rb") as f:
            lines.extend(l.strip() for l in f.read().splitlines() if l.strip())
    return lines


def atom_point(pb, build, work, lines, unique):
    if unique:
        contents = [lines[i % len(lines)] + b" #%d" % i for i in range(ATOMS)]
    else:
        contents = [lines[i % len(lines)] for i in range(ATOMS)]
    sent = sum(len(c) for c in contents)
    with Daemon(build, work) as daemon:
        s = Session(pb, daemon)
        used0 = s.used()
        t0 = time.monotonic()
        s.ingest(contents)
        seconds = time.monotonic() - t0
        used1, stats = s.used(), s.dedup()
        s.close()
        data = daemon.data
        file_size = daemon.stop()
    shutil.rmtree(data, ignore_errors=True)
    t = stats.total
    return {"sent": sent, "atoms": t.unique_atoms, "refs": t.total_references,
            "unique_bytes": t.unique_bytes, "stored_bytes": t.stored_bytes,
            "used": used1, "empty": used0, "file": file_size, "seconds": seconds}


def med(rs, key):
    return statistics.median(r[key] for r in rs)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="sizing-bench.", dir=os.environ.get("TMPDIR", "/tmp"))
    load_start = os.getloadavg()
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t_start = time.monotonic()
    pb = stubs(work)
    images = fashion_mnist()
    vec, atoms = {}, {}
    try:
        for run in range(RUNS):
            for d, kind, n in POINTS:
                r = vector_point(pb, build, work, images, d, kind, n)
                vec.setdefault((d, kind, n), []).append(r)
                print("run %d d=%d %s N=%d: memory_bytes %.1f MB, RSS +%.1f MB (anon +%.1f, file "
                      "+%.1f), LMDB +%.1f MB, %.1f s"
                      % (run + 1, d, kind, n, r["memory_bytes"] / 1e6, r["rss"] / 1e6,
                         r["anon"] / 1e6, r["filemap"] / 1e6, r["lmdb"] / 1e6, r["seconds"]),
                      file=sys.stderr)
            lines = text_lines() if ATOMS else []
            for unique in ((True, False) if ATOMS else ()):
                r = atom_point(pb, build, work, lines, unique)
                atoms.setdefault(unique, []).append(r)
                print("run %d atoms unique=%s: %d atoms, used %.1f MB, file %.1f MB, %.1f s"
                      % (run + 1, unique, r["atoms"], r["used"] / 1e6, r["file"] / 1e6,
                         r["seconds"]), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    minutes = (time.monotonic() - t_start) / 60
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    mem_total = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))

    print("## Sizing: RAM per million vectors, disk per million atoms")
    print()
    print("- Machine: %s, %d cores, %.0f GB RAM, Linux %s; date %s; load average %.2f at start, "
          "%.2f at end (shared machine); %.0f minutes in all"
          % (cpu, os.cpu_count(), mem_total / 1e6, platform.release(), start, load_start[0],
             load_end[0], minutes))
    print("- Command: `POINTS=\"%s\" ATOMS=%d RUNS=%d client/bench/sizing_bench.py build`; "
          "%d run(s) per point, medians shown" % (POINTS_SPEC, ATOMS, RUNS, RUNS))
    print("- Vectors: Fashion-MNIST images (70,000, pixels / 255) with their pixels in a fixed "
          "random order, truncated or tiled to d, plus Gaussian noise (sigma 0.05); cosine "
          "metric; float32 (no quantization). Per million = measured / N x 10^6 (linear "
          "extrapolation when N < 10^6).")
    print()
    print("| d | index | N | memory_bytes MB | per 1M vectors GB | RSS growth MB (anon + file) "
          "| RssAnon per 1M GB | LMDB growth MB | LMDB per 1M GB | snapshot MB | 4d x 1M GB "
          "| add s | vectors/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (d, kind, n), rs in vec.items():
        m, a, l = med(rs, "memory_bytes"), med(rs, "anon"), med(rs, "lmdb")
        sec = med(rs, "seconds")
        print("| %d | %s | %d | %.1f | %.2f | %.1f (%.1f + %.1f) | %.2f | %.1f | %.2f | %.1f | %.2f "
              "| %.1f | %.0f |"
              % (d, kind, n, m / 1e6, m / n * 1e6 / 1e9, med(rs, "rss") / 1e6, a / 1e6,
                 med(rs, "filemap") / 1e6, a / n * 1e6 / 1e9, l / 1e6, l / n * 1e6 / 1e9,
                 med(rs, "snapshot") / 1e6, 4 * d * 1e6 / 1e9, sec, n / sec))
    print()
    print("Bytes per vector (memory_bytes / N, RssAnon growth / N, LMDB growth / N, each minus 4d):")
    print()
    print("| d | index | N | index B/vector | - 4d | RssAnon B/vector | - 4d | LMDB B/vector | - 4d |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (d, kind, n), rs in vec.items():
        m, r, l = med(rs, "memory_bytes") / n, med(rs, "anon") / n, med(rs, "lmdb") / n
        print("| %d | %s | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |"
              % (d, kind, n, m, m - 4 * d, r, r - 4 * d, l, l - 4 * d))
    print()
    if not atoms:
        return
    print("Atoms: %d text lines (non-empty lines of %d files: /usr/share/common-licenses/* and "
          "/usr/share/doc/*/copyright), modality text, canonical_text = content:"
          % (ATOMS, len(TEXT_FILES)))
    print()
    print("| run | atoms stored | references | bytes sent MB | unique content MB | stored content MB "
          "| LMDB in use MB | data.mdb MB | per 1M atoms GB (in use) | B/atom | content B/atom "
          "| overhead B/atom | ingest s | atoms/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for unique, rs in atoms.items():
        a = rs[0]["atoms"]
        used, stored = med(rs, "used"), med(rs, "stored_bytes")
        sec = med(rs, "seconds")
        print("| %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f | %.0f | %.0f | %.0f | %.1f | %.0f |"
              % ("unique (\" #counter\" appended)" if unique else "lines as they are, repeated",
                 a, rs[0]["refs"], rs[0]["sent"] / 1e6, rs[0]["unique_bytes"] / 1e6, stored / 1e6,
                 used / 1e6, med(rs, "file") / 1e6, used / a * 1e6 / 1e9, used / a, stored / a,
                 (used - stored) / a, sec, ATOMS / sec))
    print()
    big = [k for k in vec if k[0] == 1998 and k[1] == "hnsw"]
    if True in atoms and big:
        a = atoms[True]
        atom_disk = med(a, "used") / a[0]["atoms"] * 1e6
        n = max(k[2] for k in big)
        rs = vec[(1998, "hnsw", n)]
        ram = med(rs, "anon") / n * 1e6
        disk = med(rs, "lmdb") / n * 1e6 + med(rs, "snapshot") / n * 1e6
        print("Per million atoms with one 1,998-d vector each: RAM (RssAnon growth) %.2f GB, disk %.2f GB "
              "(atoms %.2f GB + embeddings rows and index snapshot %.2f GB); design document: "
              "10.5 GB." % (ram / 1e9, (atom_disk + disk) / 1e9, atom_disk / 1e9, disk / 1e9))


if __name__ == "__main__":
    main()
