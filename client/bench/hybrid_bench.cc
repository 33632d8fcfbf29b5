// hartonomous-hybrid-bench: the design document's hybrid query on
// Fashion-MNIST (60000 x 784, L2) through hartonomousd — spatial prefilter on
// the PCA projection at radii keeping about 1%, 5% and 20% of the rows, then
// exact rerank — next to an exact scan and HNSW search of the same collection,
// in the same run. The in-process reference does the same work without the
// server: a brute-force scan, hnswlib, and its own PCA + Boost.Geometry R-tree
// + exact rerank. See docs/benchmarks.md, "Hybrid search".
//
//   hartonomous-hybrid-bench --server ADDR [--train FILE] [--queries FILE]
//       [--limit 60000] [--nq 500] [--k 10] [--m 16] [--ef-construction 200]
//       [--ef 64] [--fractions 0.01,0.05,0.2] [--clients 1,2] [--sample 10000]
//       [--batch 1000] [--calibrate 100] [--index-kind hnsw] [--rotate 0]
//
// --index-kind: the collection's index kind ("hnsw_sq8": stage 2 scores
// 8-bit codes first). --rotate 1: the data rotated (ReadSearchData).
//
// Radii: for each fraction, the median over --calibrate queries of the radius
// that keeps that fraction around the query's projection (HybridSearch
// keep_fraction); every query then uses that one radius, as a fixed-radius
// query would. Recall@k is against the exact top k by brute force.
// Prints a Markdown report on stdout.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../cli/vector_files.h"
#include "hartonomous/client.h"
#include "hnsw_reference.h"
#include "index/projection/projection.h"
#include "index/spatial/spatial_index.h"
#include "search_bench_util.h"

namespace {

namespace v1 = hartonomous::v1;
namespace hx = hartonomous::index;
using namespace hartonomous::bench;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<double> ParseDoubles(const std::string& text) {
  std::vector<double> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    out.push_back(std::stod(text.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  SetProgramName("hartonomous-hybrid-bench");
  std::map<std::string, std::string> flags =
      ParseFlags(argc, argv,
                 SearchFlags({{"--nq", "500"},
                              {"--ef", "64"},
                              {"--fractions", "0.01,0.05,0.2"},
                              {"--clients", "1,2"},
                              {"--sample", "10000"},
                              {"--calibrate", "100"}}));
  if (flags["--server"].empty()) Die("--server ADDR is required");
  const size_t k = std::stoul(flags["--k"]), m = std::stoul(flags["--m"]);
  const size_t efc = std::stoul(flags["--ef-construction"]), ef = std::stoul(flags["--ef"]);
  const size_t batch = std::stoul(flags["--batch"]), sample = std::stoul(flags["--sample"]);
  const auto fractions = ParseDoubles(flags["--fractions"]);
  const auto client_counts = ParseList(flags["--clients"]);
  const size_t calibrate = std::stoul(flags["--calibrate"]);

  const SearchData data = ReadSearchData(flags);
  const hartonomous::cli::VectorFile &train = data.train, &queries = data.queries;
  const size_t dim = data.dim, n = data.n, nqr = data.nq;
  const size_t ncal = std::min(nqr, calibrate);
  hnswlib::L2Space space(dim);
  auto g0 = Clock::now();
  const Results truth =
      BruteForce(L2Of(space), train.values, n, queries.values, nqr, dim, k, nullptr);
  std::fprintf(stderr, "ground truth: %.1f s\n", Seconds(g0, Clock::now()));

  // --- load through the server ---------------------------------------------
  const hartonomous::ClientOptions options = ServerOptions(flags["--server"]);
  auto client = ConnectToServer(options);
  std::vector<uint64_t> atom_of;
  LoadTimes load;
  const std::unordered_map<uint64_t, uint64_t> row_of =
      LoadRows(*client, "fmnist", HnswL2Spec("fmnist", dim, m, efc, flags["--index-kind"]), train,
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
    radius_of[f] = Median(radii);
  }

  std::printf(
      "- Data: %zu x %zu (L2), %zu queries from the test set, k = %zu; HNSW M=%zu, "
      "ef_construction=%zu, ef=%zu\n",
      n, dim, nqr, k, m, efc, ef);
  std::printf(
      "- Load through gRPC: %.1f s; RefitProjection (PCA on %llu rows, %zu points reprojected): "
      "%.2f s; "
      "scale (%.3f, %.3f, %.3f), coarse cell %.3f\n\n",
      load_s, static_cast<unsigned long long>(projection.fitted_rows()),
      static_cast<size_t>(projection.reprojected()), refit_s, projection.scale().x(),
      projection.scale().y(), projection.scale().z(), projection.coarse_cell());
  std::printf(
      "| program | query | clients / threads | rows kept by stage 1 | queries/s | p50 ms | p99 ms "
      "| recall@%zu |\n"
      "|---|---|---|---|---|---|---|---|\n",
      k);
  auto row = [&](const std::string& program, const std::string& mode, size_t threads,
                 const std::string& kept, double qps, const std::vector<double>& lat,
                 double recall) {
    std::printf("| %s | %s | %zu | %s | %.0f | %.3f | %.3f | %.4f |\n", program.c_str(),
                mode.c_str(), threads, kept.c_str(), qps, Percentile(lat, 0.5),
                Percentile(lat, 0.99), recall);
    std::fflush(stdout);
  };
  auto pct = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f%%", v * 100);
    return std::string(buf);
  };

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
      char label[160];
      std::snprintf(label, sizeof(label), "%s, radius %.3f (%.0f%% calibration)", v.name.c_str(),
                    radius, v.fraction * 100);
      const std::string key =
          v.name + " " + std::to_string(v.fraction) + "/" + std::to_string(threads);
      qps[key] = nqr / secs;
      recall_of[key] = Recall(got, truth, k);
      row("hartonomousd", label, threads, pct(mean_kept), qps[key], lat, recall_of[key]);
    }
  }

  // --- in-process reference ----------------------------------------------------
  auto dist = space.get_dist_func();
  void* dist_param = space.get_dist_func_param();
  {
    Results got(nqr);
    const double secs = RunParallel(
        1, nqr,
        [&](size_t, size_t q) {
          std::vector<std::pair<float, uint64_t>> all(n);
          for (size_t i = 0; i < n; ++i)
            all[i] = {dist(&queries.values[q * dim], &train.values[i * dim], dist_param), i};
          std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end());
          for (size_t i = 0; i < k; ++i) got[q].push_back(all[i].second);
        },
        &lat);
    qps["ref exact/1"] = nqr / secs;
    row("in-process", "brute-force scan (hnswlib L2 kernel)", 1, "100%", nqr / secs, lat,
        Recall(got, truth, k));
  }
  {
    auto ref = BuildReference(space, train, m, efc);
    ref->setEf(ef);
    Results got(nqr);
    const double secs = RunParallel(
        1, nqr, [&](size_t, size_t q) { got[q] = NearestRows(*ref, &queries.values[q * dim], k); },
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
      const double radius = Median(radii);
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
              scored.push_back({dist(query, &train.values[h.id * dim], dist_param), h.id});
            const size_t kk = std::min(k, scored.size());
            std::partial_sort(scored.begin(), scored.begin() + static_cast<ptrdiff_t>(kk),
                              scored.end());
            for (size_t i = 0; i < kk; ++i) got[q].push_back(scored[i].second);
            kept[q] = near->size();
          },
          &lat);
      double mean_kept = 0;
      for (uint64_t c : kept) mean_kept += double(c) / double(n) / double(nqr);
      char label[128];
      std::snprintf(label, sizeof(label),
                    "PCA + R-tree + exact rerank, radius %.3f (%.0f%% calibration)", radius,
                    f * 100);
      qps["ref hybrid " + std::to_string(f) + "/1"] = nqr / secs;
      row("in-process", label, 1, pct(mean_kept), nqr / secs, lat, Recall(got, truth, k));
    }
  }

  // --- ratios ---------------------------------------------------------------------
  std::printf("\nRatios (same run):\n\n");
  const std::string mid_key = std::to_string(mid);
  for (size_t threads : client_counts) {
    const std::string t = "/" + std::to_string(threads);
    const double hybrid = qps["HybridSearch " + mid_key + t];
    const double exact = qps["exact" + t];
    const std::string ann_key = "HybridSearch + ANN candidates (ef=" + std::to_string(ef) + ") ";
    std::printf(
        "- %zu client(s): HybridSearch at the %.0f%% radius / exact scan = %.1fx (recall@%zu "
        "%.4f); ",
        threads, mid * 100, hybrid / exact, k, recall_of["HybridSearch " + mid_key + t]);
    for (double f : {fractions.front(), mid}) {
      const std::string key = ann_key + std::to_string(f) + t;
      std::printf(
          "+ ANN at the %.0f%% radius: %.2fx the %.0f%% hybrid's speed at recall@%zu %.4f; ",
          f * 100, qps[key] / hybrid, mid * 100, k, recall_of[key]);
    }
    std::printf("HNSW / exact = %.1fx\n", qps["hnsw" + t] / exact);
  }
  std::printf(
      "- In-process: PCA + R-tree + rerank at the %.0f%% radius / brute-force scan = %.1fx; "
      "server HybridSearch (1 client) / in-process hybrid = %.2fx; server exact scan / in-process "
      "scan = %.2fx\n",
      mid * 100, qps["ref hybrid " + mid_key + "/1"] / qps["ref exact/1"],
      qps["HybridSearch " + mid_key + "/1"] / qps["ref hybrid " + mid_key + "/1"],
      qps["exact/1"] / qps["ref exact/1"]);
  return 0;
}
