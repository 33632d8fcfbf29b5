// hartonomous-bench hybrid-suite: the design document's hybrid query on
// Fashion-MNIST (60000 x 784, L2) through hartonomousd — spatial prefilter on
// the PCA projection at radii keeping about 1%, 5% and 20% of the rows, then
// exact rerank — next to an exact scan and HNSW search of the same collection,
// in the same run. The in-process reference does the same work without the
// server: a brute-force scan, hnswlib, and its own PCA + Boost.Geometry R-tree
// + exact rerank. See docs/benchmarks.md, "Hybrid search".
//
//   hartonomous-bench hybrid-suite [--server ADDR] [--train FILE]
//       [--queries FILE] [--vectors 60000] [--nq 500] [--k 10] [--m 16]
//       [--ef-construction 200] [--ef 64] [--fractions 0.01,0.05,0.2]
//       [--clients 1,2] [--sample 10000] [--batch 1000] [--calibrate 100]
//       [--index-kind hnsw] [--rotate 0] [--json-out FILE] [--json]
//
// --index-kind: the collection's index kind ("hnsw_sq8": stage 2 scores
// 8-bit codes first). --rotate 1: the data rotated (ReadSearchData).
//
// Radii: for each fraction, the median over --calibrate queries of the radius
// that keeps that fraction around the query's projection (HybridSearch
// keep_fraction); every query then uses that one radius, as a fixed-radius
// query would. Recall@k is against the exact top k by brute force.
// Prints Markdown tables as it goes (SuiteReport).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../../cli/vector_files.h"
#include "../bench_report.h"
#include "../hnsw_reference.h"
#include "../search_bench_util.h"
#include "flag_sets.h"
#include "hartonomous/client.h"
#include "index/projection/projection.h"
#include "index/spatial/spatial_index.h"
#include "suite_report.h"
#include "suites.h"

namespace hartonomous::bench {
namespace {

namespace hx = hartonomous::index;

std::vector<FlagSpec> Flags() {
  return JoinFlags({ServerFlags(),
                    VectorDataFlags("500"),
                    SearchLoadFlags(),
                    {{"ef", "64", "HNSW ef of the Search and ANN-candidate rows"},
                     {"fractions", "0.01,0.05,0.2", "fractions of rows the radii keep"},
                     {"clients", "1,2", "client counts"},
                     {"sample", "10000", "rows the projection is fitted on"},
                     {"calibrate", "100", "queries the radii are calibrated on"}},
                    ReportFlags()});
}

int Run(const BenchFlags& flags) {
  SetProgramName("hartonomous-bench hybrid-suite");
  const SearchParams params = ReadSearchParams(flags);
  const size_t k = params.k, m = params.m, efc = params.ef_construction, batch = params.batch;
  const auto ef = static_cast<size_t>(flags.IntIn("ef", 1, 100000));
  const auto sample = static_cast<size_t>(flags.IntIn("sample", 1, 100000000));
  const std::vector<double> fractions = flags.DoubleListIn("fractions", 1e-9, 1);
  std::vector<size_t> client_counts;
  for (int64_t c : flags.IntListIn("clients", 1, 1024)) client_counts.push_back(size_t(c));
  const auto calibrate = static_cast<size_t>(flags.IntIn("calibrate", 1, 1 << 30));

  const SearchData data = ReadSearchData(flags);
  SuiteReport report("hybrid-suite", flags, Flags());
  const cli::VectorFile &train = data.train, &queries = data.queries;
  const size_t dim = data.dim, n = data.n, nqr = data.nq;
  const size_t ncal = std::min(nqr, calibrate);
  const HnswL2 l2(dim);
  auto g0 = Clock::now();
  const Results truth = BruteForce([&l2](const float* a, const float* b) { return l2(a, b); },
                                   train.values, n, queries.values, nqr, dim, k, nullptr);
  std::fprintf(stderr, "ground truth: %.1f s\n", Seconds(g0, Clock::now()));

  // --- load through the server ---------------------------------------------
  const ClientOptions options = ServerOptions(flags.Str("server"));
  auto client = ConnectToServer(options);
  std::vector<uint64_t> atom_of;
  LoadTimes load;
  const std::unordered_map<uint64_t, uint64_t> row_of =
      LoadRows(*client, "fmnist", HnswL2Spec("fmnist", dim, m, efc, flags.Str("index-kind")), train,
               batch, nullptr, &atom_of, &load);
  const double load_s = load.total_s;
  v1::RefitProjectionRequest refit;
  refit.set_collection("fmnist");
  refit.set_sample_size(static_cast<uint32_t>(sample));
  v1::ProjectionInfo projection;
  auto f0 = Clock::now();
  Check(client->RefitProjection(refit, &projection), "RefitProjection");
  const double refit_s = Seconds(f0, Clock::now());

  size_t max_clients = 1;
  for (size_t c : client_counts) max_clients = std::max(max_clients, c);
  auto clients = MakeClients(options, max_clients);
  auto rows_of = [&](const google::protobuf::RepeatedPtrField<v1::ScoredAtom>& results,
                     std::vector<uint64_t>* out) {
    out->clear();
    for (const auto& r : results) out->push_back(row_of.at(r.atom_id()));
  };
  auto search_request = [&](size_t q, bool exact) {
    auto req = NearestRequest<v1::SearchRequest>("fmnist", &queries.values[q * dim], dim, k);
    req.mutable_params()->set_ef(static_cast<uint32_t>(ef));
    req.mutable_params()->set_exact(exact);
    return req;
  };
  auto hybrid_request = [&](size_t q) {
    return NearestRequest<v1::HybridSearchRequest>("fmnist", &queries.values[q * dim], dim, k);
  };

  // --- radii ---------------------------------------------------------------
  std::map<double, double> radius_of;
  for (double f : fractions) {
    std::vector<double> radii;
    for (size_t q = 0; q < ncal; ++q) {
      auto req = hybrid_request(q);
      req.set_keep_fraction(f);
      v1::HybridSearchResponse resp;
      Check(client->HybridSearch(req, &resp), "HybridSearch (calibration)");
      radii.push_back(resp.radius());
    }
    radius_of[f] = NearestRankPercentile(radii, 50);
  }

  report.Note(
      Format("- Data: %zu x %zu (L2), %zu queries from the test set, k = %zu; HNSW M=%zu, "
             "ef_construction=%zu, ef=%zu",
             n, dim, nqr, k, m, efc, ef));
  report.Note(Format(
      "- Load through gRPC: %.1f s; RefitProjection (PCA on %llu rows, %zu points reprojected): "
      "%.2f s; "
      "scale (%.3f, %.3f, %.3f), coarse cell %.3f",
      load_s, static_cast<unsigned long long>(projection.fitted_rows()),
      static_cast<size_t>(projection.reprojected()), refit_s, projection.scale().x(),
      projection.scale().y(), projection.scale().z(), projection.coarse_cell()));
  report.Table("", {"program", "query", "clients / threads", "rows kept by stage 1", "queries/s",
                    "p50 ms", "p99 ms", "recall@" + std::to_string(k)});
  auto row = [&](const std::string& program, const std::string& mode, size_t threads,
                 const std::string& kept, double qps, const std::vector<double>& lat,
                 double recall) {
    report.Row({program, mode, std::to_string(threads), kept, Format("%.0f", qps),
                Format("%.3f", NearestRankPercentile(lat, 50)),
                Format("%.3f", NearestRankPercentile(lat, 99)), Format("%.4f", recall)});
  };
  auto pct = [](double v) { return Format("%.2f%%", v * 100); };

  std::vector<double> lat;
  // qps["exact/1"], qps["hybrid 0.05/1"] ...
  std::map<std::string, double> qps, recall_of;
  // --- server: exact scan and HNSW -------------------------------------------
  {  // warm-up on every connection
    RunParallel(
        max_clients, std::min<size_t>(100, nqr),
        [&](size_t t, size_t q) {
          v1::SearchResponse resp;
          Check(clients[t]->Search(search_request(q, false), &resp), "Search");
        },
        &lat);
  }
  for (size_t threads : client_counts) {
    for (bool exact : {true, false}) {
      Results got(nqr);
      const double secs = RunParallel(
          threads, nqr,
          [&](size_t t, size_t q) {
            v1::SearchResponse resp;
            Check(clients[t]->Search(search_request(q, exact), &resp), "Search");
            rows_of(resp.results(), &got[q]);
          },
          &lat);
      const std::string key = std::string(exact ? "exact" : "hnsw") + "/" + std::to_string(threads);
      qps[key] = nqr / secs;
      recall_of[key] = Recall(got, truth, k);
      row("hartonomousd", exact ? "Search, exact scan" : "Search, HNSW ef=" + std::to_string(ef),
          threads, exact ? "100%" : "-", qps[key], lat, recall_of[key]);
    }
  }
  // --- server: hybrid --------------------------------------------------------
  struct Variant {
    std::string name;
    double fraction;
    bool coarse_first;
    bool with_ann;
  };
  std::vector<Variant> variants;
  for (double f : fractions) variants.push_back({"HybridSearch", f, false, false});
  const double mid = fractions.size() > 1 ? fractions[1] : fractions[0];
  variants.push_back({"HybridSearch, coarse first", mid, true, false});
  variants.push_back({"HybridSearch + ANN candidates (ef=" + std::to_string(ef) + ")",
                      fractions.front(), false, true});
  variants.push_back(
      {"HybridSearch + ANN candidates (ef=" + std::to_string(ef) + ")", mid, false, true});
  for (size_t threads : client_counts) {
    for (const auto& v : variants) {
      Results got(nqr);
      std::vector<uint64_t> kept(nqr);
      const double radius = radius_of.at(v.fraction);
      const double secs = RunParallel(
          threads, nqr,
          [&](size_t t, size_t q) {
            auto req = hybrid_request(q);
            req.set_radius(radius);
            req.set_coarse_first(v.coarse_first);
            if (v.with_ann) {
              req.set_mode(v1::HYBRID_MODE_PREFILTER_AND_ANN);
              req.set_ef(static_cast<uint32_t>(ef));
            }
            v1::HybridSearchResponse resp;
            Check(clients[t]->HybridSearch(req, &resp), "HybridSearch");
            rows_of(resp.results(), &got[q]);
            kept[q] = resp.candidates() - resp.ann_candidates();
          },
          &lat);
      double mean_kept = 0;
      for (uint64_t c : kept) mean_kept += double(c) / double(n) / double(nqr);
      const std::string label =
          Format("%s, radius %.3f (%.0f%% calibration)", v.name.c_str(), radius, v.fraction * 100);
      const std::string key =
          v.name + " " + std::to_string(v.fraction) + "/" + std::to_string(threads);
      qps[key] = nqr / secs;
      recall_of[key] = Recall(got, truth, k);
      row("hartonomousd", label, threads, pct(mean_kept), qps[key], lat, recall_of[key]);
    }
  }

  // --- in-process reference ----------------------------------------------------
  {
    Results got(nqr);
    const double secs = RunParallel(
        1, nqr,
        [&](size_t, size_t q) {
          std::vector<std::pair<float, uint64_t>> all(n);
          for (size_t i = 0; i < n; ++i)
            all[i] = {l2(&queries.values[q * dim], &train.values[i * dim]), i};
          std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end());
          for (size_t i = 0; i < k; ++i) got[q].push_back(all[i].second);
        },
        &lat);
    qps["ref exact/1"] = nqr / secs;
    row("in-process", "brute-force scan (hnswlib L2 kernel)", 1, "100%", nqr / secs, lat,
        Recall(got, truth, k));
  }
  {
    auto ref = HnswReference::Build(train, m, efc);
    ref->SetEf(ef);
    Results got(nqr);
    const double secs = RunParallel(
        1, nqr, [&](size_t, size_t q) { got[q] = ref->Nearest(&queries.values[q * dim], k); },
        &lat);
    qps["ref hnsw/1"] = nqr / secs;
    row("in-process", "hnswlib searchKnn ef=" + std::to_string(ef), 1, "-", nqr / secs, lat,
        Recall(got, truth, k));
  }
  {
    // The same two stages in-process: PCA on a sample of the same size, an
    // R-tree of every projected row, radius query, exact rerank.
    auto pca = std::move(hx::MakeProjection("pca", dim).value());
    std::vector<float> fit;
    const size_t step = std::max<size_t>(1, n / sample);
    size_t fit_rows = 0;
    for (size_t i = 0; i < n && fit_rows < sample; i += step, ++fit_rows) {
      fit.insert(fit.end(), &train.values[i * dim], &train.values[i * dim] + dim);
    }
    if (!pca->Fit(fit, fit_rows).ok()) Die("in-process PCA fit failed");
    auto tree = std::move(hx::MakeSpatialIndex("rtree").value());
    std::vector<std::pair<uint64_t, hx::Point3>> points(n);
    for (size_t i = 0; i < n; ++i) points[i] = {i, pca->Project(&train.values[i * dim])};
    if (!tree->Assign(points).ok()) Die("in-process R-tree load failed");
    for (double f : fractions) {
      std::vector<double> radii;
      for (size_t q = 0; q < ncal; ++q) {
        auto near =
            tree->Nearest(pca->Project(&queries.values[q * dim]), static_cast<size_t>(f * n));
        radii.push_back(near->back().distance);
      }
      const double radius = NearestRankPercentile(radii, 50);
      Results got(nqr);
      std::vector<uint64_t> kept(nqr);
      const double secs = RunParallel(
          1, nqr,
          [&](size_t, size_t q) {
            const float* query = &queries.values[q * dim];
            auto near = tree->WithinRadius(pca->Project(query), radius, 0);
            std::vector<std::pair<float, uint64_t>> scored;
            scored.reserve(near->size());
            for (const auto& h : *near)
              scored.push_back({l2(query, &train.values[h.id * dim]), h.id});
            const size_t kk = std::min(k, scored.size());
            std::partial_sort(scored.begin(), scored.begin() + static_cast<ptrdiff_t>(kk),
                              scored.end());
            for (size_t i = 0; i < kk; ++i) got[q].push_back(scored[i].second);
            kept[q] = near->size();
          },
          &lat);
      double mean_kept = 0;
      for (uint64_t c : kept) mean_kept += double(c) / double(n) / double(nqr);
      const std::string label =
          Format("PCA + R-tree + exact rerank, radius %.3f (%.0f%% calibration)", radius, f * 100);
      qps["ref hybrid " + std::to_string(f) + "/1"] = nqr / secs;
      row("in-process", label, 1, pct(mean_kept), nqr / secs, lat, Recall(got, truth, k));
    }
  }

  // --- ratios ---------------------------------------------------------------------
  report.Note("\nRatios (same run):\n");
  const std::string mid_key = std::to_string(mid);
  for (size_t threads : client_counts) {
    const std::string t = "/" + std::to_string(threads);
    const double hybrid = qps["HybridSearch " + mid_key + t];
    const double exact = qps["exact" + t];
    const std::string ann_key = "HybridSearch + ANN candidates (ef=" + std::to_string(ef) + ") ";
    std::string line = Format(
        "- %zu client(s): HybridSearch at the %.0f%% radius / exact scan = %.1fx (recall@%zu "
        "%.4f); ",
        threads, mid * 100, hybrid / exact, k, recall_of["HybridSearch " + mid_key + t]);
    for (double f : {fractions.front(), mid}) {
      const std::string key = ann_key + std::to_string(f) + t;
      line += Format(
          "+ ANN at the %.0f%% radius: %.2fx the %.0f%% hybrid's speed at recall@%zu "
          "%.4f; ",
          f * 100, qps[key] / hybrid, mid * 100, k, recall_of[key]);
    }
    report.Note(line + Format("HNSW / exact = %.1fx", qps["hnsw" + t] / exact));
    report.Value("hybrid_over_exact" + t, hybrid / exact);
  }
  report.Note(Format(
      "- In-process: PCA + R-tree + rerank at the %.0f%% radius / brute-force scan = %.1fx; "
      "server HybridSearch (1 client) / in-process hybrid = %.2fx; server exact scan / in-process "
      "scan = %.2fx",
      mid * 100, qps["ref hybrid " + mid_key + "/1"] / qps["ref exact/1"],
      qps["HybridSearch " + mid_key + "/1"] / qps["ref hybrid " + mid_key + "/1"],
      qps["exact/1"] / qps["ref exact/1"]));
  return report.Finish(flags);
}

}  // namespace

BenchCommand HybridSuite() {
  return {"hybrid-suite",
          "HybridSearch vs exact scan and HNSW through the server and in-process, same run",
          Flags(), Run};
}

}  // namespace hartonomous::bench
