// hartonomous-vector-bench: vector load and search through hartonomousd
// compared with hnswlib in-process on the same data, same parameters, same
// machine, same run (see docs/benchmarks.md, "Vector search").
//
//   hartonomous-vector-bench [--server ADDR] [--server-pid PID] [--train FILE]
//       [--queries FILE] [--labels FILE] [--limit N] [--nq 2000] [--k 10]
//       [--m 16] [--ef-construction 200] [--efs 10,20,40,80,160,320]
//       [--clients 1,2,8] [--batch-clients 1,2] [--ref-threads 1,2,8]
//       [--search-batch 100] [--batch 1000] [--filter-nq 500]
//       [--filter-ef 64] [--exact-nq 200] [--filtered-only] [--sq8-compare]
//       [--index-kind hnsw] [--rotate 0]
//
//   --filtered-only: no in-process references; after the load, only the
//       unfiltered Search row at --filter-ef (1 client) and the filtered
//       rows (label = 3, 10% of rows; label = 3 and bucket = 0, 1%).
//   --sq8-compare: no in-process references; the same rows loaded into an
//       "hnsw" and an "hnsw_sq8" collection of the daemon, then per ef the
//       two searched alternately (unary Search from --clients, BatchSearch
//       from --batch-clients), and each one's bytes per vector.
//   --index-kind: the kind of collection "fmnist". --rotate 1: the data
//       rotated by a random orthonormal map (ReadSearchData).
//
//   hartonomous-vector-bench --probe-since-ns NS --server ADDR [--queries FILE]
//       Restart probe: waits for health SERVING, then one Search, and the
//       seconds from NS (CLOCK_REALTIME, ns since the epoch; the daemon's
//       start) to its answer.
//
// Data: IDX images (pixels / 255), L2. Ground truth: exact top-k by brute
// force in-process. Prints a Markdown report on stdout.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "../cli/vector_files.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "hartonomous/client.h"
#include "hnsw_native.h"
#include "hnsw_reference.h"
#include "index/kernels.h"
#include "search_bench_util.h"

namespace {

namespace v1 = hartonomous::v1;
using namespace hartonomous::bench;

int Probe(std::map<std::string, std::string>& flags) {
  const int64_t since_ns = std::stoll(flags["--probe-since-ns"]);
  auto queries = hartonomous::cli::ReadVectorFile(flags["--queries"], 1);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 5);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 20);
  auto channel =
      grpc::CreateCustomChannel(flags["--server"], grpc::InsecureChannelCredentials(), args);
  {
    // The daemon listens before it has caught its indexes up (health
    // NOT_SERVING, Search UNAVAILABLE meanwhile): wait for SERVING first.
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    auto watch = health->Watch(&ctx, grpc::health::v1::HealthCheckRequest());
    grpc::health::v1::HealthCheckResponse status;
    bool serving = false;
    while (!serving && watch->Read(&status)) {
      serving = status.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    }
    if (!serving) Die("the server never reported SERVING");
    ctx.TryCancel();
    (void)watch->Finish();
  }
  auto stub = v1::SearchService::NewStub(channel);
  v1::SearchRequest req;
  req.set_collection("fmnist");
  req.mutable_vector()->Add(queries.values.begin(), queries.values.end());
  {
    // A rotated run (--rotate 1) stored zero-padded vectors: pad the probe
    // the same way (the probe times the first answer, not its content).
    v1::GetCollectionRequest get;
    get.set_name("fmnist");
    v1::Collection collection;
    grpc::ClientContext get_ctx;
    Check(stub->GetCollection(&get_ctx, get, &collection), "GetCollection");
    while (static_cast<uint32_t>(req.vector_size()) < collection.spec().dimension()) {
      req.add_vector(0);
    }
  }
  req.set_limit(10);
  v1::SearchResponse resp;
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  Check(stub->Search(&ctx, req, &resp), "Search");
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (resp.results_size() != 10)
    Die("first Search returned " + std::to_string(resp.results_size()) + " results");
  std::printf("%.3f\n", double(now_ns - since_ns) / 1e9);
  return 0;
}

}  // namespace

namespace {

// The exact scan at memory speed: every distance kernel this CPU runs over
// all rows for each query (1 thread), next to a plain streaming sum over the
// same array, in bytes read per second.
void ScanBandwidth(const std::vector<float>& rows, const std::vector<float>& queries, size_t dim,
                   size_t nq) {
  const size_t n = rows.size() / dim;
  const double bytes = double(rows.size()) * sizeof(float);
  auto best_of = [](int runs, const std::function<double()>& once) {
    std::vector<double> secs;
    for (int r = 0; r < runs; ++r) secs.push_back(once());
    std::sort(secs.begin(), secs.end());
    return secs[secs.size() / 2];  // median
  };
  volatile float sink = 0;
  const double sum_s = best_of(5, [&] {
    const auto t = Clock::now();
    float acc[16] = {};
    for (size_t i = 0; i + 16 <= rows.size(); i += 16)
      for (size_t j = 0; j < 16; ++j) acc[j] += rows[i + j];
    float total = 0;
    for (float a : acc) total += a;
    sink = total;
    return Seconds(t, Clock::now());
  });
  std::printf(
      "\nExact scan (%zu rows x %zu floats = %.0f MB per query, 1 thread, median of 5):\n\n"
      "| kernel | GB/s | / streaming sum |\n|---|---|---|\n| streaming sum | %.2f | 1.00 |\n",
      n, dim, bytes / 1e6, bytes / sum_s / 1e9);
  for (const auto* k : hartonomous::index::SupportedKernels()) {
    const double s = best_of(5, [&] {
      const auto t = Clock::now();
      float best = 0;
      for (size_t q = 0; q < nq; ++q) {
        for (size_t i = 0; i < n; ++i)
          best += k->squared_l2(&queries[q * dim], &rows[i * dim], dim) < 1 ? 1.0f : 0.0f;
      }
      sink = best;
      return Seconds(t, Clock::now()) / double(nq);
    });
    std::printf("| %s%s | %.2f | %.2f |\n", k->name,
                k == &hartonomous::index::Kernels() ? " (in use)" : "", bytes / s / 1e9, sum_s / s);
  }
  (void)sink;
}

}  // namespace

int main(int argc, char** argv) {
  SetProgramName("hartonomous-vector-bench");
  std::map<std::string, std::string> flags = ParseFlags(
      argc, argv,
      SearchFlags({{"--labels", "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"},
                   {"--nq", "2000"},
                   {"--efs", "10,20,40,80,160,320"},
                   {"--clients", "1,2,8"},
                   {"--batch-clients", "1,2"},
                   {"--ref-threads", "1,2,8"},
                   {"--search-batch", "100"},
                   {"--filter-nq", "500"},
                   {"--filter-ef", "64"},
                   {"--exact-nq", "200"},
                   {"--server-pid", ""},
                   {"--filtered-only", "0"},
                   {"--sq8-compare", "0"},
                   {"--probe-since-ns", ""}}));
  if (!flags["--probe-since-ns"].empty()) return Probe(flags);
  const size_t k = std::stoul(flags["--k"]), m = std::stoul(flags["--m"]);
  const size_t efc = std::stoul(flags["--ef-construction"]), batch = std::stoul(flags["--batch"]);
  const size_t search_batch = std::stoul(flags["--search-batch"]);
  const bool filtered_only = flags["--filtered-only"] != "0";
  const bool sq8_compare = flags["--sq8-compare"] != "0";
  const bool no_refs = filtered_only || sq8_compare;
  const auto efs = ParseList(flags["--efs"]);
  const auto client_counts = filtered_only ? std::vector<size_t>{} : ParseList(flags["--clients"]);
  const auto batch_client_counts =
      filtered_only ? std::vector<size_t>{} : ParseList(flags["--batch-clients"]);
  const auto ref_threads = no_refs ? std::vector<size_t>{} : ParseList(flags["--ref-threads"]);

  const SearchData data = ReadSearchData(flags);
  const hartonomous::cli::VectorFile &train = data.train, &queries = data.queries;
  const size_t dim = data.dim, n = data.n, nqr = data.nq;
  auto labels = hartonomous::cli::ReadIdxLabels(flags["--labels"]);
  const size_t filter_nq = std::min(nqr, std::stoul(flags["--filter-nq"]));
  const size_t exact_nq = std::min(nqr, std::stoul(flags["--exact-nq"]));

  hnswlib::L2Space space(dim);
  auto g0 = Clock::now();
  const Results truth =
      BruteForce(L2Of(space), train.values, n, queries.values, nqr, dim, k, nullptr);
  const int filter_label = 3;
  const Results ftruth = BruteForce(L2Of(space), train.values, n, queries.values, filter_nq, dim, k,
                                    [&](size_t i) { return labels[i] == filter_label; });
  // 1% of rows: label 3 and bucket (row % 10) 0.
  const Results ftruth1 =
      BruteForce(L2Of(space), train.values, n, queries.values, filter_nq, dim, k,
                 [&](size_t i) { return labels[i] == filter_label && i % 10 == 0; });
  std::fprintf(stderr, "ground truth: %.1f s\n", Seconds(g0, Clock::now()));

  // qps[program/mode/threads][ef], recall[program/mode/threads][ef].
  std::map<std::string, std::map<size_t, double>> qps, recall;
  std::printf(
      "| program | mode | threads / clients | ef | queries/s | p50 ms | p99 ms | recall@%zu |\n"
      "|---|---|---|---|---|---|---|---|\n",
      k);
  auto row = [&](const std::string& program, const std::string& mode, size_t threads,
                 const std::string& ef, double q, const std::vector<double>& lat,
                 const std::string& rec) {
    std::printf("| %s | %s | %zu | %s | %.0f | %.3f | %.3f | %s |\n", program.c_str(), mode.c_str(),
                threads, ef.c_str(), q, Percentile(lat, 0.5), Percentile(lat, 0.99), rec.c_str());
    std::fflush(stdout);
  };
  auto fmt = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.4f", v);
    return std::string(buf);
  };

  // Reference: hnswlib in-process, built by one thread.
  const double rss_before = ProcStatus("self")["VmRSS"];
  auto t0 = Clock::now();
  auto ref = no_refs ? nullptr : BuildReference(space, train, m, efc);
  const double ref_build = Seconds(t0, Clock::now());
  const double ref_rss = (ProcStatus("self")["VmRSS"] - rss_before) * 1024;
  // hnswlib's own structures: level 0 (links, vector, label) plus upper levels.
  double ref_index_bytes = ref ? double(n) * double(ref->size_data_per_element_) : 0;
  for (size_t i = 0; ref && i < n; ++i)
    ref_index_bytes += double(ref->element_levels_[i]) * double(ref->size_links_per_element_);
  std::vector<double> lat;
  if (ref) {  // warm-up
    ref->setEf(efs.front());
    RunParallel(
        1, std::min<size_t>(200, nqr),
        [&](size_t, size_t q) { ref->searchKnn(&queries.values[q * dim], k); }, &lat);
  }
  for (size_t threads : ref_threads) {
    for (size_t ef : efs) {
      ref->setEf(ef);
      Results got(nqr);
      const double secs = RunParallel(
          threads, nqr,
          [&](size_t, size_t q) { got[q] = NearestRows(*ref, &queries.values[q * dim], k); }, &lat);
      const std::string key = "ref/" + std::to_string(threads);
      qps[key][ef] = nqr / secs;
      recall[key][ef] = Recall(got, truth, k);
      row("hnswlib in-process", "searchKnn", threads, std::to_string(ef), nqr / secs, lat,
          fmt(recall[key][ef]));
    }
  }
  // Reference: hnswlib compiled with -march=native, built by 2 threads.
  t0 = Clock::now();
  auto native = no_refs ? nullptr : NativeHnsw::Build(train.values.data(), n, dim, m, efc, 2);
  const double native_build = Seconds(t0, Clock::now());
  for (size_t threads : ref_threads) {
    for (size_t ef : efs) {
      native->SetEf(ef);
      Results got(nqr);
      const double secs = RunParallel(
          threads, nqr,
          [&](size_t, size_t q) { got[q] = native->Nearest(&queries.values[q * dim], k); }, &lat);
      const std::string key = "native/" + std::to_string(threads);
      qps[key][ef] = nqr / secs;
      recall[key][ef] = Recall(got, truth, k);
      row(std::string("hnswlib -march=native (") + native->kernel() + ")", "searchKnn", threads,
          std::to_string(ef), nqr / secs, lat, fmt(recall[key][ef]));
    }
  }
  if (!no_refs) ScanBandwidth(train.values, queries.values, dim, std::min<size_t>(nqr, 20));
  if (flags["--server"].empty()) {
    std::printf(
        "\n- hnswlib in-process build (1 thread): %.1f s (%.0f vectors/s); index %.0f MB = %.0f "
        "bytes/vector (RSS growth %.0f MB)\n",
        ref_build, n / ref_build, ref_index_bytes / 1e6, ref_index_bytes / n, ref_rss / 1e6);
    return 0;
  }

  const hartonomous::ClientOptions options = ServerOptions(flags["--server"]);
  auto client = ConnectToServer(options);
  const std::string pid = flags["--server-pid"];
  const double server_rss_start = pid.empty() ? 0 : ProcStatus(pid)["VmRSS"] * 1024;
  std::vector<uint64_t> atom_of;
  LoadTimes load;
  const std::unordered_map<uint64_t, uint64_t> row_of = LoadRows(
      *client, "fmnist", HnswL2Spec("fmnist", dim, m, efc, flags["--index-kind"]), train, batch,
      [&](size_t r) {
        return "{\"label\":" + std::to_string(labels[r]) + ",\"bucket\":" + std::to_string(r % 10) +
               "}";
      },
      &atom_of, &load);
  const double load_secs = load.total_s, atom_secs = load.atoms_s, add_secs = load.embeddings_s;
  const auto server_status = pid.empty() ? std::map<std::string, double>{} : ProcStatus(pid);
  v1::Collection info;
  Check(client->GetCollection("fmnist", &info), "GetCollection");

  // Search clients: each its own connection.
  size_t max_clients = 1;
  for (size_t c : client_counts) max_clients = std::max(max_clients, c);
  for (size_t c : batch_client_counts) max_clients = std::max(max_clients, c);
  auto clients = MakeClients(options, max_clients);
  std::string collection = "fmnist";  // the collection searched
  auto make_request = [&](size_t q, size_t ef, bool exact, int label) {
    auto req = NearestRequest<v1::SearchRequest>(collection, &queries.values[q * dim], dim, k);
    req.mutable_params()->set_ef(static_cast<uint32_t>(ef));
    req.mutable_params()->set_exact(exact);
    // label >= 100: label - 100 and bucket 0 (1% of rows).
    if (label >= 0)
      (*req.mutable_filter()->mutable_metadata_equals())["label"] = std::to_string(label % 100);
    if (label >= 100) (*req.mutable_filter()->mutable_metadata_equals())["bucket"] = "0";
    return req;
  };
  auto to_rows = [&](const v1::SearchResponse& resp, std::vector<uint64_t>* out) {
    out->clear();
    for (const auto& r : resp.results()) out->push_back(row_of.at(r.atom_id()));
  };
  // Unary Search from `threads` clients over the first count queries.
  auto unary = [&](size_t threads, size_t count, size_t ef, bool exact, int label, Results* got,
                   std::map<int, int>* paths) {
    got->assign(count, {});
    std::vector<std::vector<int>> path_of(threads);
    const double secs = RunParallel(
        threads, count,
        [&](size_t t, size_t q) {
          v1::SearchResponse resp;
          Check(clients[t]->Search(make_request(q, ef, exact, label), &resp), "Search");
          path_of[t].push_back(resp.path());
          to_rows(resp, &(*got)[q]);
        },
        &lat);
    if (paths) {
      for (const auto& v : path_of)
        for (int p : v) ++(*paths)[p];
    }
    return secs;
  };
  {  // warm-up: every connection
    Results got;
    unary(max_clients, std::min<size_t>(200, nqr), efs.front(), false, -1, &got, nullptr);
  }
  // BatchSearch (search_batch queries per call) from `threads` clients.
  auto batched = [&](size_t threads, size_t ef, Results* got) {
    got->assign(nqr, {});
    const size_t calls = (nqr + search_batch - 1) / search_batch;
    return RunParallel(
        threads, calls,
        [&](size_t t, size_t c) {
          v1::BatchSearchRequest req;
          const size_t first = c * search_batch, last = std::min(nqr, first + search_batch);
          for (size_t q = first; q < last; ++q)
            *req.add_searches() = make_request(q, ef, false, -1);
          v1::BatchSearchResponse resp;
          Check(clients[t]->BatchSearch(req, &resp), "BatchSearch");
          for (size_t q = first; q < last; ++q)
            to_rows(resp.results(static_cast<int>(q - first)), &(*got)[q]);
        },
        &lat);
  };
  const std::string batch_mode =
      "BatchSearch (" + std::to_string(search_batch) + " per call; latency per call)";
  if (sq8_compare) {
    // The same rows (the same atoms) into an "hnsw_sq8" collection.
    v1::CollectionSpec sq8_spec = HnswL2Spec("fmnist_sq8", dim, m, efc);
    sq8_spec.mutable_index()->set_kind("hnsw_sq8");
    std::vector<uint64_t> sq8_atoms;
    LoadTimes sq8_load;
    LoadRows(
        *client, "fmnist_sq8", sq8_spec, train, batch, [](size_t) { return std::string(); },
        &sq8_atoms, &sq8_load);
    v1::Collection sq8_info;
    Check(client->GetCollection("fmnist_sq8", &sq8_info), "GetCollection");
    Check(client->GetCollection("fmnist", &info), "GetCollection");
    const std::pair<const char*, const char*> kinds[] = {{"hnsw", "fmnist"},
                                                         {"hnsw_sq8", "fmnist_sq8"}};
    {  // warm-up: every connection, both collections
      Results got;
      for (const auto& [kind, name] : kinds) {
        collection = name;
        unary(max_clients, std::min<size_t>(200, nqr), efs.front(), false, -1, &got, nullptr);
      }
    }
    // Per ef, the two collections one after the other: the machine's
    // share of CPU drifts less between them than between whole passes.
    for (size_t ef : efs) {
      for (const auto& [kind, name] : kinds) {
        collection = name;
        const std::string program = std::string("hartonomousd ") + kind;
        for (size_t threads : client_counts) {
          Results got;
          const double secs = unary(threads, nqr, ef, false, -1, &got, nullptr);
          const std::string key = "search/" + std::to_string(threads) + "/" + kind;
          qps[key][ef] = nqr / secs;
          recall[key][ef] = Recall(got, truth, k);
          row(program, "Search", threads, std::to_string(ef), nqr / secs, lat,
              fmt(recall[key][ef]));
        }
        for (size_t threads : batch_client_counts) {
          Results got;
          const double secs = batched(threads, ef, &got);
          const std::string key = "batch/" + std::to_string(threads) + "/" + kind;
          qps[key][ef] = nqr / secs;
          recall[key][ef] = Recall(got, truth, k);
          row(program, batch_mode, threads, std::to_string(ef), nqr / secs, lat,
              fmt(recall[key][ef]));
        }
      }
    }
    std::printf("\nhnsw_sq8 against hnsw, per ef (queries/s ratio sq8 / float):\n\n| ef |");
    std::vector<std::string> modes;
    for (size_t t : client_counts) modes.push_back("search/" + std::to_string(t));
    for (size_t t : batch_client_counts) modes.push_back("batch/" + std::to_string(t));
    for (const auto& mode : modes) {
      std::printf(" %s recall hnsw | %s recall sq8 | %s sq8/hnsw |", mode.c_str(), mode.c_str(),
                  mode.c_str());
    }
    std::printf("\n|---|");
    for (size_t i = 0; i < modes.size(); ++i) std::printf("---|---|---|");
    std::printf("\n");
    for (size_t ef : efs) {
      std::printf("| %zu |", ef);
      for (const auto& mode : modes) {
        const std::string f = mode + "/hnsw", q = mode + "/hnsw_sq8";
        std::printf(" %s | %s | %.2f |", fmt(recall[f][ef]).c_str(), fmt(recall[q][ef]).c_str(),
                    qps[q][ef] / qps[f][ef]);
      }
      std::printf("\n");
    }
    std::printf(
        "\n- hnsw: GetCollection memory %.1f MB = %llu bytes/vector; load %.1f s (AddEmbeddings "
        "%.1f s)\n- hnsw_sq8: GetCollection memory %.1f MB = %llu bytes/vector (%.1f%% of "
        "hnsw's); load %.1f s (AddEmbeddings %.1f s)\n",
        info.memory_bytes() / 1e6, static_cast<unsigned long long>(info.bytes_per_vector()),
        load.total_s, load.embeddings_s, sq8_info.memory_bytes() / 1e6,
        static_cast<unsigned long long>(sq8_info.bytes_per_vector()),
        100.0 * double(sq8_info.bytes_per_vector()) / double(info.bytes_per_vector()),
        sq8_load.total_s, sq8_load.embeddings_s);
    if (!pid.empty()) {
      std::printf("- hartonomousd RSS with both collections: %.0f MB\n",
                  ProcStatus(pid)["VmRSS"] * 1024 / 1e6);
    }
    return 0;
  }
  for (size_t threads : client_counts) {
    for (size_t ef : efs) {
      Results got;
      const double secs = unary(threads, nqr, ef, false, -1, &got, nullptr);
      const std::string key = "search/" + std::to_string(threads);
      qps[key][ef] = nqr / secs;
      recall[key][ef] = Recall(got, truth, k);
      row("hartonomousd", "Search", threads, std::to_string(ef), nqr / secs, lat,
          fmt(recall[key][ef]));
    }
  }
  for (size_t threads : batch_client_counts) {
    for (size_t ef : efs) {
      Results got;
      const double secs = batched(threads, ef, &got);
      const std::string key = "batch/" + std::to_string(threads);
      qps[key][ef] = nqr / secs;
      recall[key][ef] = Recall(got, truth, k);
      row("hartonomousd", batch_mode, threads, std::to_string(ef), nqr / secs, lat,
          fmt(recall[key][ef]));
    }
  }
  auto path_note = [](const std::map<int, int>& paths) {
    std::string note;
    for (const auto& [p, c] : paths) {
      std::string name = v1::SearchPath_Name(static_cast<v1::SearchPath>(p));
      if (name.rfind("SEARCH_PATH_", 0) == 0) name = name.substr(12);
      note += (note.empty() ? "" : ", ") + name + " " + std::to_string(c);
    }
    return note;
  };
  double filter_recall = 0;
  {
    const size_t ef = std::stoul(flags["--filter-ef"]);
    Results got;
    std::map<int, int> paths;
    // The unfiltered search at the same ef and queries: the reference.
    double secs = unary(1, filter_nq, ef, false, -1, &got, &paths);
    const double plain_qps = filter_nq / secs;
    Results t(truth.begin(), truth.begin() + filter_nq);
    row("hartonomousd",
        "Search, no filter (" + std::to_string(filter_nq) + " queries; " + path_note(paths) + ")",
        1, std::to_string(ef), plain_qps, lat, fmt(Recall(got, t, k)));
    struct Filtered {
      int label;
      const char* what;
      const Results* truth;
    };
    for (const Filtered& f :
         {Filtered{filter_label, "label = 3 (10% of rows", &ftruth},
          Filtered{100 + filter_label, "label = 3, bucket = 0 (1% of rows", &ftruth1}}) {
      paths.clear();
      // First query builds the filter's matching rows (once per snapshot).
      secs = unary(1, filter_nq, ef, false, f.label, &got, &paths);
      const double rec = Recall(got, *f.truth, k);
      if (f.truth == &ftruth) filter_recall = rec;
      char ratio[48];
      std::snprintf(ratio, sizeof(ratio), "; %.2fx unfiltered", filter_nq / secs / plain_qps);
      row("hartonomousd",
          std::string("Search, filter ") + f.what + "; " + std::to_string(filter_nq) +
              " queries; " + path_note(paths) + ratio + ")",
          1, std::to_string(ef), filter_nq / secs, lat, fmt(rec) + " (vs exact over the filter)");
      // The same filter with exact: true (the exact scan of the matching rows).
      paths.clear();
      secs = unary(1, filter_nq, ef, true, f.label, &got, &paths);
      std::snprintf(ratio, sizeof(ratio), "; %.2fx unfiltered", filter_nq / secs / plain_qps);
      row("hartonomousd",
          std::string("Search, exact, filter ") + f.what + "; " + std::to_string(filter_nq) +
              " queries; " + path_note(paths) + ratio + ")",
          1, "-", filter_nq / secs, lat,
          fmt(Recall(got, *f.truth, k)) + " (vs exact over the filter)");
    }
  }
  if (filtered_only) return 0;
  {
    Results got;
    std::map<int, int> paths;
    const double secs = unary(1, exact_nq, 0, true, -1, &got, &paths);
    Results t(truth.begin(), truth.begin() + exact_nq);
    row("hartonomousd",
        "Search, exact (" + std::to_string(exact_nq) + " queries; " + path_note(paths) + ")", 1,
        "-", exact_nq / secs, lat, fmt(Recall(got, t, k)));
  }

  std::printf("\nLoad and memory:\n\n");
  std::printf(
      "- hnswlib in-process build, 1 thread: %.1f s (%.0f vectors/s); index %.0f MB = %.0f "
      "bytes/vector (RSS growth of the benchmark %.0f MB)\n",
      ref_build, n / ref_build, ref_index_bytes / 1e6, ref_index_bytes / n, ref_rss / 1e6);
  std::printf(
      "- hartonomousd load through gRPC, batches of %zu: %.1f s in all; IngestAtoms %.1f s (%.0f "
      "atoms/s), "
      "AddEmbeddings (durable, indexed) %.1f s (%.0f vectors/s) = %.2fx the in-process build; "
      "load in all = %.2fx hnswlib -march=native's 2-thread build (%.1f s)\n",
      batch, load_secs, atom_secs, n / atom_secs, add_secs, n / add_secs, add_secs / ref_build,
      load_secs / native_build, native_build);
  if (!pid.empty()) {
    const double rss = server_status.at("VmRSS") * 1024;
    std::printf(
        "- hartonomousd RSS after the load: %.0f MB (anonymous %.0f MB, file-backed %.0f MB: LMDB "
        "pages in "
        "the map) = %.0f bytes per vector; %.0f MB before the load, so %.0f bytes per vector added "
        "(the raw vector is %zu bytes)\n",
        rss / 1e6, server_status.count("RssAnon") ? server_status.at("RssAnon") * 1024 / 1e6 : 0.0,
        server_status.count("RssFile") ? server_status.at("RssFile") * 1024 / 1e6 : 0.0, rss / n,
        server_rss_start / 1e6, (rss - server_rss_start) / n, dim * sizeof(float));
  }
  {
    v1::ServerStats stats;
    Check(client->GetServerStats(&stats), "GetStats");
    std::printf("- hartonomousd distance kernels (GetStats): %s\n",
                stats.distance_kernels().c_str());
  }
  std::printf("- Index memory reported by GetCollection: %.0f MB = %.0f bytes/vector\n",
              double(info.memory_bytes()) / 1e6, double(info.memory_bytes()) / n);

  // Targets at recall@k >= 0.95, per ef (server and reference recall both).
  std::printf("\nRatios per ef (server queries/s / in-process queries/s):\n\n");
  std::printf(
      "| ef | recall@%zu (ref, 1 thread) | BatchSearch 1 client / native 1 thread | BatchSearch 1 "
      "client / ref 1 thread | BatchSearch 2 clients / ref 2 threads | Search 8 clients / native 2 "
      "threads | Search 8 clients / ref 2 threads | Search 1 client / ref 1 thread | native 1 "
      "thread / ref 1 thread "
      "|\n|---|---|---|---|---|---|---|---|---|\n",
      k);
  auto ratio = [&](const std::string& a, const std::string& b, size_t ef) {
    if (!qps.count(a) || !qps.count(b) || !qps[a].count(ef) || !qps[b].count(ef))
      return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", qps[a][ef] / qps[b][ef]);
    return std::string(buf);
  };
  for (size_t ef : efs) {
    std::printf("| %zu | %s | %s | %s | %s | %s | %s | %s | %s |\n", ef,
                recall.count("ref/1") ? fmt(recall["ref/1"][ef]).c_str() : "-",
                ratio("batch/1", "native/1", ef).c_str(), ratio("batch/1", "ref/1", ef).c_str(),
                ratio("batch/2", "ref/2", ef).c_str(), ratio("search/8", "native/2", ef).c_str(),
                ratio("search/8", "ref/2", ef).c_str(), ratio("search/1", "ref/1", ef).c_str(),
                ratio("native/1", "ref/1", ef).c_str());
  }
  std::printf("\n- Filtered search (label = %d, 10%% of rows), recall@%zu: %.4f\n", filter_label, k,
              filter_recall);
  return 0;
}
