#!/usr/bin/python3
"""Document decomposition benchmark on real data.

Starts a fresh hartonomousd, ingests groups of real files as documents with
`hartonomous ingest-doc --json` (one CLI run per group, files in order),
then rebuilds every document with GetDocument (gRPC) and compares it with
its source byte for byte. Prints a Markdown section for docs/benchmarks.md.

  client/bench/document_bench.py [BUILD_DIR]        (default: build)

Groups: the license texts in /usr/share/common-licenses, every
/usr/share/doc/*/copyright, and the Fashion-MNIST image files
(/usr/share/datasets/fashion-mnist/*-images-idx3-ubyte.gz, gunzipped to a
temp dir), once with the default 16x16 patches and once with 14x14 patches;
and each of the 10,000 Fashion-MNIST test images as a document of its own
(a 28x28 PGM file made from the IDX bytes), cut into 7x7 and into 4x4 patches,
where the blank background patches repeat across images.
"""
import glob, gzip, json, os, platform, re, shutil, subprocess, sys, tempfile, time

import grpc  # Debian's python3-grpcio: the reconstruction check calls GetDocument directly

build = sys.argv[1] if len(sys.argv) > 1 else "build"
server_bin = os.path.join(build, "server", "hartonomousd")
cli_bin = os.path.join(build, "client", "cli", "hartonomous")
work = tempfile.mkdtemp(prefix="hdocbench.", dir=os.environ.get("TMPDIR", "/tmp"))


def start_server():
    data = os.path.join(work, "data")
    os.makedirs(data)
    log = open(os.path.join(work, "server.out"), "w")
    proc = subprocess.Popen([server_bin, "--listen", "127.0.0.1:0", "--data-dir", data],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    m = re.search(r"listening on (\S+)", line)
    if not m:
        proc.kill()
        sys.exit("hartonomousd did not report its address: " + line)
    return proc, m.group(1)


def cli(addr, *args, timeout=3600):
    r = subprocess.run([cli_bin, "--server", addr, "--timeout", "3600", *args],
                       capture_output=True, timeout=timeout)
    if r.returncode != 0:
        sys.exit("hartonomous %s failed: %s" % (" ".join(args[:2]), r.stderr.decode(errors="replace")))
    return r.stdout


def document_stub(addr):
    """GetDocument over gRPC, with stubs generated from the .proto files."""
    gen = os.path.join(work, "py")
    os.makedirs(gen)
    proto_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto")
    subprocess.run(["protoc", "-I", proto_dir, "--python_out", gen, "--grpc_out", gen,
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
                    "hartonomous/v1/atom_service.proto", "hartonomous/v1/common.proto"],
                   check=True)
    sys.path.insert(0, gen)
    from hartonomous.v1 import atom_service_pb2 as pb, atom_service_pb2_grpc as rpc
    stub = rpc.AtomServiceStub(grpc.insecure_channel(
        addr, options=[("grpc.max_receive_message_length", -1)]))

    def get(document_id):
        parts = []
        for msg in stub.GetDocument(pb.GetDocumentRequest(document_id=document_id), timeout=600):
            if msg.WhichOneof("part") == "content":
                parts.append(msg.content)
        return b"".join(parts)
    return get


def main():
    licenses = sorted(p for p in glob.glob("/usr/share/common-licenses/*") if os.path.isfile(p))
    copyrights = sorted(p for p in glob.glob("/usr/share/doc/*/copyright") if os.path.isfile(p))
    mnist = []
    for gz in sorted(glob.glob("/usr/share/datasets/fashion-mnist/*-images-idx3-ubyte.gz")):
        out = os.path.join(work, os.path.basename(gz)[:-3])
        with gzip.open(gz, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        mnist.append(out)
    # Every test image as its own PGM document.
    images = []
    test_idx = [m for m in mnist if "t10k" in m]
    if test_idx:
        with open(test_idx[0], "rb") as f:
            raw = f.read()
        count = int.from_bytes(raw[4:8], "big")
        img_dir = os.path.join(work, "images")
        os.makedirs(img_dir)
        for i in range(count):
            path = os.path.join(img_dir, "%05d.pgm" % i)
            with open(path, "wb") as out:
                out.write(b"P5\n28 28\n255\n" + raw[16 + i * 784:16 + (i + 1) * 784])
            images.append(path)
    # 28 x 28 images: 14 x 14 patches tile them without padding.
    groups = [("license texts", [], licenses), ("copyright files", [], copyrights),
              ("Fashion-MNIST IDX, 16x16 patches (default)", [], mnist),
              ("Fashion-MNIST IDX, 14x14 patches", ["--patch", "14"], mnist),
              ("Fashion-MNIST test images, one document each, 7x7 patches",
               ["--patch", "7"], images),
              ("Fashion-MNIST test images, one document each, 4x4 patches",
               ["--patch", "4"], images)]
    proc, addr = start_server()
    get_document = document_stub(addr)
    rows, checks = [], []
    load_start = os.getloadavg()
    try:
        for name, options, files in groups:
            t0 = time.monotonic()
            out = json.loads(cli(addr, "--json", "ingest-doc", *options, *files))
            seconds = time.monotonic() - t0
            res = out["results"]
            formats = sorted({r["format"] for r in res})
            rows.append({
                "group": name, "documents": len(res), "formats": ",".join(formats),
                "created": out["atoms_created"], "reused": out["atoms_reused"],
                "received": out["bytes_received"], "stored": out["bytes_stored"],
                "seconds": seconds})
            ok = 0
            t0 = time.monotonic()
            for r, path in zip(res, files):
                with open(path, "rb") as b:
                    ok += get_document(r["document_id"]) == b.read()
            checks.append((name, ok, len(res), time.monotonic() - t0))
        stats = json.loads(cli(addr, "--json", "stats"))
        server_stats = json.loads(cli(addr, "--json", "server-stats"))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print("## Document decomposition on real data\n")
    print("Every group is one `hartonomous ingest-doc --json FILE...` run against a fresh "
          "hartonomousd (one document = one transaction, durable commits), files in order; "
          "groups share the server, so later groups reuse atoms of earlier ones. Then each "
          "document is rebuilt with GetDocument (gRPC) and compared byte for byte with its "
          "source.\n")
    print("- Machine: %s, %d cores; date %s UTC; commit %s; load average %.2f at start, %.2f at end"
          % (platform.machine(), os.cpu_count(), time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
             commit, load_start[0], load_end[0]))
    print("- Command: `client/bench/document_bench.py %s`" % build)
    print("- MB = 10^6 bytes. received = document bytes sent; stored = content bytes of atoms "
          "newly stored (parts plus manifests); dedup ratio = received / stored; MB/s = "
          "received / wall time of the CLI run (client, server and fsyncs on the same 2 cores).\n")
    print("| group | documents | formats | atoms created | atoms reused | received MB | stored MB "
          "| dedup ratio | ingest s | MB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    tot = {"documents": 0, "created": 0, "reused": 0, "received": 0, "stored": 0, "seconds": 0.0}
    for r in rows:
        for k in tot:
            tot[k] += r[k]
        print("| %s | %d | %s | %d | %d | %.2f | %.2f | %.2f | %.1f | %.2f |" % (
            r["group"], r["documents"], r["formats"], r["created"], r["reused"],
            r["received"] / 1e6, r["stored"] / 1e6, r["received"] / max(1, r["stored"]),
            r["seconds"], r["received"] / 1e6 / r["seconds"]))
    print("| **all** | %d | | %d | %d | %.2f | %.2f | %.2f | %.1f | %.2f |\n" % (
        tot["documents"], tot["created"], tot["reused"], tot["received"] / 1e6,
        tot["stored"] / 1e6, tot["received"] / max(1, tot["stored"]), tot["seconds"],
        tot["received"] / 1e6 / tot["seconds"]))
    print("Reconstruction check (GetDocument, byte-for-byte compare):\n")
    for name, ok, n, seconds in checks:
        print("- %s: %d of %d documents identical (%.1f s)" % (name, ok, n, seconds))
    t = stats.get("total", {})
    print("\nServer dedup statistics afterwards (all modalities): %s active atoms, %s "
          "references, %s documents; unique bytes %s, logical bytes %s."
          % (t.get("unique_atoms"), t.get("total_references"), t.get("documents"),
             t.get("unique_bytes"), t.get("logical_bytes")))
    print("Data file afterwards: %.1f MB." % (server_stats.get("data_file_bytes", 0) / 1e6))
    if any(ok != n for _, ok, n, _ in checks):
        sys.exit(1)


main()
