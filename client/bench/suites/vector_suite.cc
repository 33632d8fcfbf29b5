// hartonomous-bench vector-suite: vector load and search through hartonomousd
// compared with hnswlib in-process on the same data, same parameters, same
// machine, same run (see docs/benchmarks.md, "Vector search").
//
//   hartonomous-bench vector-suite [--server ADDR] [--server-pid PID]
//       [--train FILE] [--queries FILE] [--labels FILE] [--vectors N]
//       [--nq 2000] [--k 10] [--m 16] [--ef-construction 200]
//       [--efs 10,20,40,80,160,320] [--clients 1,2,8] [--batch-clients 1,2]
//       [--ref-threads 1,2,8] [--search-batch 100] [--batch 1000]
//       [--filter-nq 500] [--filter-ef 64] [--exact-nq 200] [--filtered-only]
//       [--sq8-compare] [--references-only] [--index-kind hnsw] [--rotate 0]
//       [--json-out FILE] [--json]
//
//   --filtered-only: no in-process references; after the load, only the
//       unfiltered Search row at --filter-ef (1 client) and the filtered
//       rows (label = 3, 10% of rows; label = 3 and bucket = 0, 1%).
//   --sq8-compare: no in-process references; the same rows loaded into an
//       "hnsw" and an "hnsw_sq8" collection of the daemon, then per ef the
//       two searched alternately (unary Search from --clients, BatchSearch
//       from --batch-clients), and each one's bytes per vector.
//   --references-only: the in-process references alone, no server.
//   --index-kind: the kind of collection "fmnist". --rotate 1: the data
//       rotated by a random orthonormal map (ReadSearchData).
//
// Data: IDX images (pixels / 255), L2. Ground truth: exact top-k by brute
// force in-process. Prints Markdown tables as it goes (SuiteReport).
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

#include "../../cli/vector_files.h"
#include "../bench_report.h"
#include "../hnsw_native.h"
#include "../hnsw_reference.h"
#include "../search_bench_util.h"
#include "flag_sets.h"
#include "hartonomous/client.h"
#include "index/kernels.h"
#include "suite_report.h"
#include "suites.h"

namespace hartonomous::bench {
namespace {

// The exact scan at memory speed: every distance kernel this CPU runs over
// all rows for each query (1 thread), next to a plain streaming sum over the
// same array, in bytes read per second.
void ScanBandwidth(const std::vector<float>& rows, const std::vector<float>& queries, size_t dim,
                   size_t nq, SuiteReport& report) {
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
  report.Table(Format("Exact scan (%zu rows x %zu floats = %.0f MB per query, 1 thread, median "
                      "of 5):",
                      n, dim, bytes / 1e6),
               {"kernel", "GB/s", "/ streaming sum"});
  report.Row({"streaming sum", Format("%.2f", bytes / sum_s / 1e9), "1.00"});
  for (const auto* k : index::SupportedKernels()) {
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
    report.Row({std::string(k->name) + (k == &index::Kernels() ? " (in use)" : ""),
                Format("%.2f", bytes / s / 1e9), Format("%.2f", sum_s / s)});
  }
  (void)sink;
}

// A list flag of counts as size_t values.
std::vector<size_t> Counts(const BenchFlags& flags, const char* name, int64_t min, int64_t max) {
  const std::vector<int64_t> values = flags.IntListIn(name, min, max);
  return {values.begin(), values.end()};
}

std::vector<FlagSpec> Flags() {
  return JoinFlags(
      {ServerFlags(),
       VectorDataFlags("2000"),
       SearchLoadFlags(),
       {{"labels", "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz",
         "IDX labels of --train: the metadata filtered on"},
        {"efs", "10,20,40,80,160,320", "HNSW ef values searched"},
        {"clients", "1,2,8", "unary Search client counts"},
        {"batch-clients", "1,2", "BatchSearch client counts"},
        {"ref-threads", "1,2,8", "in-process reference thread counts"},
        {"search-batch", "100", "queries per BatchSearch"},
        {"filter-nq", "500", "queries of the filtered searches"},
        {"filter-ef", "64", "ef of the filtered searches"},
        {"exact-nq", "200", "queries of the exact search"},
        {"filtered-only", "", "no references: the load, then the filtered searches only", true},
        {"sq8-compare", "", "no references: hnsw against hnsw_sq8 collections per ef", true},
        {"references-only", "", "the in-process references only; no server", true}},
       ReportFlags()});
}

int Run(const BenchFlags& flags) {
  SetProgramName("hartonomous-bench vector-suite");
  const SearchParams params = ReadSearchParams(flags);
  const size_t k = params.k, m = params.m, efc = params.ef_construction, batch = params.batch;
  const auto search_batch = static_cast<size_t>(flags.IntIn("search-batch", 1, 100000));
  const bool filtered_only = flags.Bool("filtered-only");
  const bool sq8_compare = flags.Bool("sq8-compare");
  const bool references_only = flags.Bool("references-only");
  if (int(filtered_only) + int(sq8_compare) + int(references_only) > 1) {
    throw FlagError("--filtered-only, --sq8-compare and --references-only exclude each other");
  }
  const bool no_refs = filtered_only || sq8_compare;
  const auto efs = Counts(flags, "efs", 1, 100000);
  const auto client_counts =
      filtered_only ? std::vector<size_t>{} : Counts(flags, "clients", 1, 1024);
  const auto batch_client_counts =
      filtered_only ? std::vector<size_t>{} : Counts(flags, "batch-clients", 1, 1024);
  const auto ref_threads = no_refs ? std::vector<size_t>{} : Counts(flags, "ref-threads", 1, 1024);
  const auto filter_nq_flag = static_cast<size_t>(flags.IntIn("filter-nq", 1, 1 << 30));
  const auto exact_nq_flag = static_cast<size_t>(flags.IntIn("exact-nq", 1, 1 << 30));
  const auto filter_ef = static_cast<size_t>(flags.IntIn("filter-ef", 1, 100000));
  const int64_t server_pid = flags.IntIn("server-pid", 0, INT32_MAX);

  const SearchData data = ReadSearchData(flags);
  const cli::VectorFile &train = data.train, &queries = data.queries;
  const size_t dim = data.dim, n = data.n, nqr = data.nq;
  auto labels = cli::ReadIdxLabels(flags.Str("labels"));
  if (labels.size() < n) {
    Die("--labels has " + std::to_string(labels.size()) + " labels for " + std::to_string(n) +
        " rows of --train");
  }
  const size_t filter_nq = std::min(nqr, filter_nq_flag);
  const size_t exact_nq = std::min(nqr, exact_nq_flag);
  SuiteReport report("vector-suite", flags, Flags());

  const HnswL2 l2(dim);
  const DistanceFn distance = [&l2](const float* a, const float* b) { return l2(a, b); };
  auto g0 = Clock::now();
  const Results truth = BruteForce(distance, train.values, n, queries.values, nqr, dim, k, nullptr);
  const int filter_label = 3;
  const Results ftruth = BruteForce(distance, train.values, n, queries.values, filter_nq, dim, k,
                                    [&](size_t i) { return labels[i] == filter_label; });
  // 1% of rows: label 3 and bucket (row % 10) 0.
  const Results ftruth1 =
      BruteForce(distance, train.values, n, queries.values, filter_nq, dim, k,
                 [&](size_t i) { return labels[i] == filter_label && i % 10 == 0; });
  std::fprintf(stderr, "ground truth: %.1f s\n", Seconds(g0, Clock::now()));

  // qps[program/mode/threads][ef], recall[program/mode/threads][ef].
  std::map<std::string, std::map<size_t, double>> qps, recall;
  auto results_table = [&](const std::string& title) {
    report.Table(title, {"program", "mode", "threads / clients", "ef", "queries/s", "p50 ms",
                         "p99 ms", "recall@" + std::to_string(k)});
  };
  results_table("Searches:");
  auto row = [&](const std::string& program, const std::string& mode, size_t threads,
                 const std::string& ef, double q, const std::vector<double>& lat,
                 const std::string& rec) {
    report.Row({program, mode, std::to_string(threads), ef, Format("%.0f", q),
                Format("%.3f", NearestRankPercentile(lat, 50)),
                Format("%.3f", NearestRankPercentile(lat, 99)), rec});
  };
  auto fmt = [](double v) { return Format("%.4f", v); };

  // Reference: hnswlib in-process, built by one thread.
  const double rss_before = ProcStatus("self")["VmRSS"];
  auto t0 = Clock::now();
  auto ref = no_refs ? nullptr : HnswReference::Build(train, m, efc);
  const double ref_build = Seconds(t0, Clock::now());
  const double ref_rss = (ProcStatus("self")["VmRSS"] - rss_before) * 1024;
  // hnswlib's own structures: level 0 (links, vector, label) plus upper levels.
  const double ref_index_bytes = ref ? ref->IndexBytes() : 0;
  std::vector<double> lat;
  if (ref) {  // warm-up
    ref->SetEf(efs.front());
    RunParallel(
        1, std::min<size_t>(200, nqr),
        [&](size_t, size_t q) { ref->Nearest(&queries.values[q * dim], k); }, &lat);
  }
  for (size_t threads : ref_threads) {
    for (size_t ef : efs) {
      ref->SetEf(ef);
      Results got(nqr);
      const double secs = RunParallel(
          threads, nqr,
          [&](size_t, size_t q) { got[q] = ref->Nearest(&queries.values[q * dim], k); }, &lat);
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
  if (!no_refs) {
    ScanBandwidth(train.values, queries.values, dim, std::min<size_t>(nqr, 20), report);
  }
  if (references_only) {
    report.Note(Format(
        "\n- hnswlib in-process build (1 thread): %.1f s (%.0f vectors/s); index %.0f MB = %.0f "
        "bytes/vector (RSS growth %.0f MB)",
        ref_build, n / ref_build, ref_index_bytes / 1e6, ref_index_bytes / n, ref_rss / 1e6));
    return report.Finish(flags);
  }
  if (!no_refs) results_table("Searches through hartonomousd:");

  const ClientOptions options = ServerOptions(flags.Str("server"));
  auto client = ConnectToServer(options);
  const std::string pid = server_pid == 0 ? "" : std::to_string(server_pid);
  const double server_rss_start = pid.empty() ? 0 : ProcStatus(pid)["VmRSS"] * 1024;
  std::vector<uint64_t> atom_of;
  LoadTimes load;
  const std::unordered_map<uint64_t, uint64_t> row_of = LoadRows(
      *client, "fmnist", HnswL2Spec("fmnist", dim, m, efc, flags.Str("index-kind")), train, batch,
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
    std::vector<std::string> modes;
    for (size_t t : client_counts) modes.push_back("search/" + std::to_string(t));
    for (size_t t : batch_client_counts) modes.push_back("batch/" + std::to_string(t));
    std::vector<std::string> columns = {"ef"};
    for (const auto& mode : modes) {
      columns.push_back(mode + " recall hnsw");
      columns.push_back(mode + " recall sq8");
      columns.push_back(mode + " sq8/hnsw");
    }
    report.Table("hnsw_sq8 against hnsw, per ef (queries/s ratio sq8 / float):", columns);
    for (size_t ef : efs) {
      std::vector<std::string> cells = {std::to_string(ef)};
      for (const auto& mode : modes) {
        const std::string f = mode + "/hnsw", q = mode + "/hnsw_sq8";
        cells.push_back(fmt(recall[f][ef]));
        cells.push_back(fmt(recall[q][ef]));
        cells.push_back(Format("%.2f", qps[q][ef] / qps[f][ef]));
      }
      report.Row(cells);
    }
    report.Note(Format(
        "\n- hnsw: GetCollection memory %.1f MB = %llu bytes/vector; load %.1f s (AddEmbeddings "
        "%.1f s)\n- hnsw_sq8: GetCollection memory %.1f MB = %llu bytes/vector (%.1f%% of "
        "hnsw's); load %.1f s (AddEmbeddings %.1f s)",
        info.memory_bytes() / 1e6, static_cast<unsigned long long>(info.bytes_per_vector()),
        load.total_s, load.embeddings_s, sq8_info.memory_bytes() / 1e6,
        static_cast<unsigned long long>(sq8_info.bytes_per_vector()),
        100.0 * double(sq8_info.bytes_per_vector()) / double(info.bytes_per_vector()),
        sq8_load.total_s, sq8_load.embeddings_s));
    if (!pid.empty()) {
      report.Note(Format("- hartonomousd RSS with both collections: %.0f MB",
                         ProcStatus(pid)["VmRSS"] * 1024 / 1e6));
    }
    return report.Finish(flags);
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
    const size_t ef = filter_ef;
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
      std::string ratio = Format("; %.2fx unfiltered", filter_nq / secs / plain_qps);
      row("hartonomousd",
          std::string("Search, filter ") + f.what + "; " + std::to_string(filter_nq) +
              " queries; " + path_note(paths) + ratio + ")",
          1, std::to_string(ef), filter_nq / secs, lat, fmt(rec) + " (vs exact over the filter)");
      // The same filter with exact: true (the exact scan of the matching rows).
      paths.clear();
      secs = unary(1, filter_nq, ef, true, f.label, &got, &paths);
      ratio = Format("; %.2fx unfiltered", filter_nq / secs / plain_qps);
      row("hartonomousd",
          std::string("Search, exact, filter ") + f.what + "; " + std::to_string(filter_nq) +
              " queries; " + path_note(paths) + ratio + ")",
          1, "-", filter_nq / secs, lat,
          fmt(Recall(got, *f.truth, k)) + " (vs exact over the filter)");
    }
  }
  if (filtered_only) return report.Finish(flags);
  {
    Results got;
    std::map<int, int> paths;
    const double secs = unary(1, exact_nq, 0, true, -1, &got, &paths);
    Results t(truth.begin(), truth.begin() + exact_nq);
    row("hartonomousd",
        "Search, exact (" + std::to_string(exact_nq) + " queries; " + path_note(paths) + ")", 1,
        "-", exact_nq / secs, lat, fmt(Recall(got, t, k)));
  }

  report.Note("\nLoad and memory:\n");
  report.Note(
      Format("- hnswlib in-process build, 1 thread: %.1f s (%.0f vectors/s); index %.0f MB = %.0f "
             "bytes/vector (RSS growth of the benchmark %.0f MB)",
             ref_build, n / ref_build, ref_index_bytes / 1e6, ref_index_bytes / n, ref_rss / 1e6));
  report.Note(Format(
      "- hartonomousd load through gRPC, batches of %zu: %.1f s in all; IngestAtoms %.1f s (%.0f "
      "atoms/s), "
      "AddEmbeddings (durable, indexed) %.1f s (%.0f vectors/s) = %.2fx the in-process build; "
      "load in all = %.2fx hnswlib -march=native's 2-thread build (%.1f s)",
      batch, load_secs, atom_secs, n / atom_secs, add_secs, n / add_secs, add_secs / ref_build,
      load_secs / native_build, native_build));
  if (!pid.empty()) {
    const double rss = server_status.at("VmRSS") * 1024;
    report.Note(Format(
        "- hartonomousd RSS after the load: %.0f MB (anonymous %.0f MB, file-backed %.0f MB: LMDB "
        "pages in "
        "the map) = %.0f bytes per vector; %.0f MB before the load, so %.0f bytes per vector added "
        "(the raw vector is %zu bytes)",
        rss / 1e6, server_status.count("RssAnon") ? server_status.at("RssAnon") * 1024 / 1e6 : 0.0,
        server_status.count("RssFile") ? server_status.at("RssFile") * 1024 / 1e6 : 0.0, rss / n,
        server_rss_start / 1e6, (rss - server_rss_start) / n, dim * sizeof(float)));
  }
  {
    v1::ServerStats stats;
    Check(client->GetServerStats(&stats), "GetStats");
    report.Note("- hartonomousd distance kernels (GetStats): " + stats.distance_kernels());
  }
  report.Note(Format("- Index memory reported by GetCollection: %.0f MB = %.0f bytes/vector",
                     double(info.memory_bytes()) / 1e6, double(info.memory_bytes()) / n));
  report.Value("load_s", load_secs);
  report.Value("add_embeddings_s", add_secs);
  report.Value("reference_build_s", ref_build);
  report.Value("native_build_s", native_build);
  report.Value("index_bytes_per_vector", double(info.memory_bytes()) / n);

  // Targets at recall@k >= 0.95, per ef (server and reference recall both).
  report.Table("Ratios per ef (server queries/s / in-process queries/s):",
               {"ef", "recall@" + std::to_string(k) + " (ref, 1 thread)",
                "BatchSearch 1 client / native 1 thread", "BatchSearch 1 client / ref 1 thread",
                "BatchSearch 2 clients / ref 2 threads", "Search 8 clients / native 2 threads",
                "Search 8 clients / ref 2 threads", "Search 1 client / ref 1 thread",
                "native 1 thread / ref 1 thread"});
  auto ratio = [&](const std::string& a, const std::string& b, size_t ef) {
    if (!qps.count(a) || !qps.count(b) || !qps[a].count(ef) || !qps[b].count(ef))
      return std::string("-");
    return Format("%.2f", qps[a][ef] / qps[b][ef]);
  };
  for (size_t ef : efs) {
    report.Row({std::to_string(ef), recall.count("ref/1") ? fmt(recall["ref/1"][ef]) : "-",
                ratio("batch/1", "native/1", ef), ratio("batch/1", "ref/1", ef),
                ratio("batch/2", "ref/2", ef), ratio("search/8", "native/2", ef),
                ratio("search/8", "ref/2", ef), ratio("search/1", "ref/1", ef),
                ratio("native/1", "ref/1", ef)});
  }
  report.Note(Format("\n- Filtered search (label = %d, 10%% of rows), recall@%zu: %.4f",
                     filter_label, k, filter_recall));
  return report.Finish(flags);
}

}  // namespace

BenchCommand VectorSuite() {
  return {"vector-suite",
          "vector load and search through hartonomousd vs hnswlib in-process, same run", Flags(),
          Run};
}

}  // namespace hartonomous::bench
