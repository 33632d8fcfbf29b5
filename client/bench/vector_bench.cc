// hartonomous-vector-bench: vector load and search through hartonomousd
// compared with hnswlib in-process on the same data, same parameters, same
// machine (see docs/benchmarks.md, "Vector search").
//
//   hartonomous-vector-bench --server ADDR [--train FILE] [--queries FILE]
//       [--labels FILE] [--limit N] [--nq N] [--k 10] [--m 16]
//       [--ef-construction 200] [--efs 16,32,64,128,256] [--batch 1000]
//
// Data: IDX images (pixels / 255), L2. Ground truth: exact top-k by brute
// force in-process. Prints a Markdown report on stdout.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../cli/vector_files.h"
#include "hartonomous/client.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = hartonomous::v1;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::vector<size_t> ParseList(const std::string& text) {
  std::vector<size_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoul(item));
  return out;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "hartonomous-vector-bench: %s\n", message.c_str());
  std::exit(1);
}

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.error_message());
}

double Recall(const std::vector<std::vector<uint64_t>>& got,
              const std::vector<std::vector<uint64_t>>& truth, size_t k) {
  size_t hits = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::set<uint64_t> t(truth[q].begin(), truth[q].begin() + std::min(k, truth[q].size()));
    for (size_t i = 0; i < std::min(k, got[q].size()); ++i) hits += t.count(got[q][i]);
  }
  return double(hits) / double(truth.size() * k);
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {
      {"--train", "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"},
      {"--queries", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"},
      {"--labels", "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"},
      {"--limit", "60000"}, {"--nq", "500"}, {"--k", "10"}, {"--m", "16"},
      {"--ef-construction", "200"}, {"--efs", "16,32,64,128,256"}, {"--batch", "1000"},
      {"--server", ""}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!flags.count(argv[i])) Die(std::string("unknown flag ") + argv[i]);
    flags[argv[i]] = argv[i + 1];
  }
  if ((argc - 1) % 2 != 0) Die("every flag takes a value");
  const size_t limit = std::stoul(flags["--limit"]), nq = std::stoul(flags["--nq"]);
  const size_t k = std::stoul(flags["--k"]), m = std::stoul(flags["--m"]);
  const size_t efc = std::stoul(flags["--ef-construction"]), batch = std::stoul(flags["--batch"]);
  const auto efs = ParseList(flags["--efs"]);

  auto train = hartonomous::cli::ReadVectorFile(flags["--train"], limit);
  auto queries = hartonomous::cli::ReadVectorFile(flags["--queries"], nq);
  auto labels = hartonomous::cli::ReadIdxLabels(flags["--labels"]);
  const size_t dim = train.dimension, n = train.rows;
  std::fprintf(stderr, "data: %zu x %zu, %zu queries\n", n, dim, queries.rows);

  // Ground truth, exact.
  hnswlib::L2Space space(dim);
  auto dist = space.get_dist_func();
  void* param = space.get_dist_func_param();
  std::vector<std::vector<uint64_t>> truth(queries.rows);
  for (size_t q = 0; q < queries.rows; ++q) {
    std::vector<std::pair<float, uint64_t>> all(n);
    for (size_t i = 0; i < n; ++i) {
      all[i] = {dist(&queries.values[q * dim], &train.values[i * dim], param), i};
    }
    std::partial_sort(all.begin(), all.begin() + k, all.end());
    for (size_t i = 0; i < k; ++i) truth[q].push_back(all[i].second);
  }

  // Reference: hnswlib in-process, one thread.
  auto t0 = Clock::now();
  hnswlib::HierarchicalNSW<float> ref(&space, n, m, efc);
  for (size_t i = 0; i < n; ++i) ref.addPoint(&train.values[i * dim], i);
  const double ref_build = Seconds(t0, Clock::now());
  std::printf("| program | phase | ef | vectors/s or queries/s | p50 ms | p99 ms | recall@%zu |\n|---|---|---|---|---|---|---|\n", k);
  std::printf("| hnswlib in-process | build (1 thread) | - | %.0f | - | - | - |\n", n / ref_build);
  for (size_t ef : efs) {
    ref.setEf(ef);
    std::vector<std::vector<uint64_t>> got(queries.rows);
    std::vector<double> lat;
    auto s0 = Clock::now();
    for (size_t q = 0; q < queries.rows; ++q) {
      auto a = Clock::now();
      auto pq = ref.searchKnn(&queries.values[q * dim], k);
      lat.push_back(Seconds(a, Clock::now()) * 1000);
      while (!pq.empty()) {
        got[q].insert(got[q].begin(), pq.top().second);
        pq.pop();
      }
    }
    const double secs = Seconds(s0, Clock::now());
    std::printf("| hnswlib in-process | search | %zu | %.0f | %.3f | %.3f | %.4f |\n", ef,
                queries.rows / secs, Percentile(lat, 0.5), Percentile(lat, 0.99),
                Recall(got, truth, k));
  }
  std::fflush(stdout);
  if (flags["--server"].empty()) return 0;

  hartonomous::ClientOptions options;
  options.target = flags["--server"];
  options.timeout = std::chrono::milliseconds(600000);
  hartonomous::Client client(options);
  Check(client.WaitUntilServing(std::chrono::milliseconds(10000)), "wait for the server");
  v1::CollectionSpec spec;
  spec.set_embedding_type("fmnist");
  spec.set_dimension(static_cast<uint32_t>(dim));
  spec.set_metric(v1::METRIC_L2);
  spec.mutable_index()->set_kind("hnsw");
  spec.mutable_index()->set_m(static_cast<uint32_t>(m));
  spec.mutable_index()->set_ef_construction(static_cast<uint32_t>(efc));
  // Atoms: one per row, content = the image bytes plus the row number (so
  // that duplicate images stay distinct rows, as in the reference).
  std::vector<uint64_t> atom_of(n);
  std::map<uint64_t, uint64_t> row_of;
  double atom_secs = 0, add_secs = 0;
  for (size_t start = 0; start < n; start += batch) {
    const size_t end = std::min(n, start + batch);
    std::vector<v1::IngestAtomRequest> atoms;
    for (size_t r = start; r < end; ++r) {
      v1::IngestAtomRequest a;
      a.set_content(train.raw_rows[r] + "#" + std::to_string(r));
      a.set_modality("image");
      a.set_metadata("{\"label\":" + std::to_string(labels[r]) + "}");
      atoms.push_back(std::move(a));
    }
    auto a0 = Clock::now();
    v1::IngestAtomsResponse ingested;
    Check(client.IngestAtoms(atoms, &ingested), "IngestAtoms");
    auto a1 = Clock::now();
    std::vector<v1::EmbeddingInput> inputs;
    for (size_t r = start; r < end; ++r) {
      atom_of[r] = ingested.results(static_cast<int>(r - start)).atom_id();
      row_of[atom_of[r]] = r;
      v1::EmbeddingInput in;
      in.set_atom_id(atom_of[r]);
      in.mutable_vector()->Add(&train.values[r * dim], &train.values[r * dim] + dim);
      inputs.push_back(std::move(in));
    }
    auto b0 = Clock::now();
    v1::AddEmbeddingsResponse added;
    Check(client.AddEmbeddings("fmnist", &spec, inputs, &added), "AddEmbeddings");
    auto b1 = Clock::now();
    atom_secs += Seconds(a0, a1);
    add_secs += Seconds(b0, b1);
  }
  std::printf("| hartonomousd | IngestAtoms (batches of %zu) | - | %.0f | - | - | - |\n", batch, n / atom_secs);
  std::printf("| hartonomousd | AddEmbeddings (batches of %zu, durable, indexed) | - | %.0f | - | - | - |\n",
              batch, n / add_secs);
  auto run = [&](const std::string& phase, size_t ef, bool exact, int label) {
    std::vector<std::vector<uint64_t>> got(queries.rows);
    std::vector<double> lat;
    std::map<int, int> paths;
    auto s0 = Clock::now();
    for (size_t q = 0; q < queries.rows; ++q) {
      v1::SearchRequest req;
      req.set_collection("fmnist");
      req.mutable_vector()->Add(&queries.values[q * dim], &queries.values[q * dim] + dim);
      req.set_limit(static_cast<uint32_t>(k));
      req.mutable_params()->set_ef(static_cast<uint32_t>(ef));
      req.mutable_params()->set_exact(exact);
      if (label >= 0) (*req.mutable_filter()->mutable_metadata_equals())["label"] = std::to_string(label);
      v1::SearchResponse resp;
      auto a = Clock::now();
      Check(client.Search(req, &resp), "Search");
      lat.push_back(Seconds(a, Clock::now()) * 1000);
      ++paths[resp.path()];
      for (const auto& r : resp.results()) got[q].push_back(row_of[r.atom_id()]);
    }
    const double secs = Seconds(s0, Clock::now());
    std::string recall = "-";
    if (label < 0) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.4f", Recall(got, truth, k));
      recall = buf;
    } else {
      // Recall against brute force over the rows with that label.
      std::vector<std::vector<uint64_t>> ftruth(queries.rows);
      for (size_t q = 0; q < queries.rows; ++q) {
        std::vector<std::pair<float, uint64_t>> all;
        for (size_t i = 0; i < n; ++i) {
          if (labels[i] == label) all.push_back({dist(&queries.values[q * dim], &train.values[i * dim], param), i});
        }
        std::partial_sort(all.begin(), all.begin() + std::min(k, all.size()), all.end());
        for (size_t i = 0; i < std::min(k, all.size()); ++i) ftruth[q].push_back(all[i].second);
      }
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.4f", Recall(got, ftruth, k));
      recall = buf;
    }
    std::string path_note;
    for (const auto& [p, c] : paths) path_note += " " + v1::SearchPath_Name(static_cast<v1::SearchPath>(p)) + ":" + std::to_string(c);
    std::printf("| hartonomousd | %s (%s) | %s | %.0f | %.3f | %.3f | %s |\n", phase.c_str(),
                path_note.c_str() + 1, exact ? "-" : std::to_string(ef).c_str(), queries.rows / secs,
                Percentile(lat, 0.5), Percentile(lat, 0.99), recall.c_str());
    std::fflush(stdout);
  };
  for (size_t ef : efs) run("Search", ef, false, -1);
  run("Search, filter label = 3", 64, false, 3);
  run("Search, exact", 0, true, -1);
  return 0;
}
