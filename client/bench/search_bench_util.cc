#include "search_bench_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace hartonomous::bench {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

namespace {
const char* program_name = "bench";
}  // namespace

void SetProgramName(const char* name) { program_name = name; }

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program_name, message.c_str());
  std::exit(1);
}

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.error_message());
}

double Recall(const Results& got, const Results& truth, size_t k) {
  size_t hits = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::set<uint64_t> t(truth[q].begin(), truth[q].begin() + std::min(k, truth[q].size()));
    for (size_t i = 0; i < std::min(k, got[q].size()); ++i) hits += t.count(got[q][i]);
  }
  return double(hits) / double(truth.size() * k);
}

std::map<std::string, double> ProcStatus(const std::string& pid) {
  std::map<std::string, double> out;
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    if (key.rfind("Vm", 0) != 0 && key.rfind("Rss", 0) != 0) continue;
    out[key] = std::atof(line.c_str() + colon + 1);
  }
  return out;
}

double RunParallel(size_t threads, size_t units, const std::function<void(size_t, size_t)>& fn,
                   std::vector<double>* latency_ms) {
  latency_ms->assign(units, 0);
  std::vector<std::thread> pool;
  auto s0 = Clock::now();
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t u = t; u < units; u += threads) {
        auto a = Clock::now();
        fn(t, u);
        (*latency_ms)[u] = Seconds(a, Clock::now()) * 1000;
      }
    });
  }
  for (auto& th : pool) th.join();
  return Seconds(s0, Clock::now());
}

Results BruteForce(const DistanceFn& distance, const std::vector<float>& train, size_t n,
                   const std::vector<float>& queries, size_t nq, size_t dim, size_t k,
                   const std::function<bool(size_t)>& keep) {
  Results truth(nq);
  std::vector<double> unused;
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  RunParallel(
      threads, nq,
      [&](size_t, size_t q) {
        std::vector<std::pair<float, uint64_t>> all;
        all.reserve(n);
        for (size_t i = 0; i < n; ++i) {
          if (keep && !keep(i)) continue;
          all.push_back({distance(&queries[q * dim], &train[i * dim]), i});
        }
        const size_t kk = std::min(k, all.size());
        std::partial_sort(all.begin(), all.begin() + kk, all.end());
        for (size_t i = 0; i < kk; ++i) truth[q].push_back(all[i].second);
      },
      &unused);
  return truth;
}

std::vector<FlagSpec> SearchLoadFlags() {
  return {{"batch", "1000", "rows per IngestAtoms and AddEmbeddings call of the load"},
          {"index-kind", "hnsw", "the index kind of the collection (hnsw, hnsw_sq8, exact)"},
          {"rotate", "0", "1: rotate rows and queries by a random orthonormal map"}};
}

SearchParams ReadSearchParams(const BenchFlags& flags) {
  SearchParams p;
  p.k = static_cast<size_t>(flags.IntIn("k", 1, 10000));
  p.m = static_cast<size_t>(flags.IntIn("m", 2, 1024));
  p.ef_construction = static_cast<size_t>(flags.IntIn("ef-construction", 1, 100000));
  p.batch = static_cast<size_t>(flags.IntIn("batch", 1, 1000000));
  return p;
}

ClientOptions ServerOptions(const std::string& target) {
  ClientOptions options;
  options.target = target;
  options.timeout = std::chrono::milliseconds(600000);
  if (std::string error; !ApplyClientEnvironment(&options, &error)) Die(error);
  return options;
}

std::unique_ptr<Client> ConnectToServer(const ClientOptions& options) {
  auto client = std::make_unique<Client>(options);
  Check(client->WaitUntilServing(std::chrono::milliseconds(10000)), "wait for the server");
  return client;
}

v1::CollectionSpec HnswL2Spec(const std::string& type, size_t dimension, size_t m,
                              size_t ef_construction, const std::string& kind) {
  v1::CollectionSpec spec;
  spec.set_embedding_type(type);
  spec.set_dimension(static_cast<uint32_t>(dimension));
  spec.set_metric(v1::METRIC_L2);
  spec.mutable_index()->set_kind(kind);
  spec.mutable_index()->set_m(static_cast<uint32_t>(m));
  spec.mutable_index()->set_ef_construction(static_cast<uint32_t>(ef_construction));
  return spec;
}

namespace {

// In place, the normalised Walsh-Hadamard transform of n = 2^j floats.
void Hadamard(float* v, size_t n) {
  for (size_t h = 1; h < n; h *= 2) {
    for (size_t i = 0; i < n; i += 2 * h) {
      for (size_t j = i; j < i + h; ++j) {
        const float a = v[j], b = v[j + h];
        v[j] = a + b;
        v[j + h] = a - b;
      }
    }
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(n));
  for (size_t i = 0; i < n; ++i) v[i] *= scale;
}

// Every row zero-padded to `to` (a power of two), its signs flipped by
// `signs`, then Hadamard-transformed: an orthonormal map.
void Rotate(cli::VectorFile* f, size_t to, const std::vector<float>& signs) {
  std::vector<float> out(f->rows * to, 0.0f);
  for (size_t r = 0; r < f->rows; ++r) {
    float* row = &out[r * to];
    for (size_t d = 0; d < f->dimension; ++d) row[d] = f->values[r * f->dimension + d] * signs[d];
    Hadamard(row, to);
  }
  f->values = std::move(out);
  f->dimension = to;
}

}  // namespace

SearchData ReadSearchData(const BenchFlags& flags) {
  SearchData data;
  const auto vectors = static_cast<size_t>(flags.IntIn("vectors", 1, int64_t{1} << 32));
  const auto nq = static_cast<size_t>(flags.IntIn("nq", 1, int64_t{1} << 32));
  const bool rotate = flags.IntIn("rotate", 0, 1) == 1;
  data.train = cli::ReadVectorFile(flags.Str("train"), vectors);
  data.queries = cli::ReadVectorFile(flags.Str("queries"), nq);
  if (data.train.dimension != data.queries.dimension) {
    Die("--train has " + std::to_string(data.train.dimension) + " dimensions, --queries " +
        std::to_string(data.queries.dimension) + ": they must match");
  }
  if (rotate) {
    size_t to = 1;
    while (to < data.train.dimension) to *= 2;
    std::mt19937 rng(20261201);
    std::vector<float> signs(data.train.dimension);
    for (float& s : signs) s = (rng() & 1) != 0 ? 1.0f : -1.0f;
    Rotate(&data.train, to, signs);
    Rotate(&data.queries, to, signs);
    std::fprintf(stderr, "rotated: signs flipped, zero-padded to %zu, Hadamard transform\n", to);
  }
  data.dim = data.train.dimension;
  data.n = data.train.rows;
  data.nq = data.queries.rows;
  std::fprintf(stderr, "data: %zu x %zu, %zu queries\n", data.n, data.dim, data.nq);
  return data;
}

std::vector<std::unique_ptr<Client>> MakeClients(const ClientOptions& options, size_t count) {
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 0; i < count; ++i) {
    ClientOptions o = options;
    o.own_connection = true;
    clients.push_back(ConnectToServer(o));
  }
  return clients;
}

std::unordered_map<uint64_t, uint64_t> LoadRows(Client& client, const std::string& collection,
                                                const v1::CollectionSpec& spec,
                                                const cli::VectorFile& rows, size_t batch,
                                                const std::function<std::string(size_t)>& metadata,
                                                std::vector<uint64_t>* atom_of, LoadTimes* times) {
  const size_t n = rows.rows, dim = rows.dimension;
  std::unordered_map<uint64_t, uint64_t> row_of;
  atom_of->assign(n, 0);
  auto l0 = Clock::now();
  for (size_t start = 0; start < n; start += batch) {
    const size_t end = std::min(n, start + batch);
    std::vector<v1::IngestAtomRequest> atoms;
    for (size_t r = start; r < end; ++r) {
      v1::IngestAtomRequest a;
      const std::string raw =
          r < rows.raw_rows.size()
              ? rows.raw_rows[r]
              : std::string(reinterpret_cast<const char*>(&rows.values[r * dim]),
                            dim * sizeof(float));
      a.set_content(raw + "#" + std::to_string(r));
      a.set_modality("image");
      if (metadata) a.set_metadata(metadata(r));
      atoms.push_back(std::move(a));
    }
    auto a0 = Clock::now();
    v1::IngestAtomsResponse ingested;
    Check(client.IngestAtoms(atoms, &ingested), "IngestAtoms");
    auto a1 = Clock::now();
    std::vector<v1::EmbeddingInput> inputs;
    for (size_t r = start; r < end; ++r) {
      (*atom_of)[r] = ingested.results(static_cast<int>(r - start)).atom_id();
      row_of[(*atom_of)[r]] = r;
      v1::EmbeddingInput in;
      in.set_atom_id((*atom_of)[r]);
      in.mutable_vector()->Add(&rows.values[r * dim], &rows.values[r * dim] + dim);
      inputs.push_back(std::move(in));
    }
    auto b0 = Clock::now();
    v1::AddEmbeddingsResponse added;
    Check(client.AddEmbeddings(collection, &spec, inputs, &added), "AddEmbeddings");
    auto b1 = Clock::now();
    times->atoms_s += Seconds(a0, a1);
    times->embeddings_s += Seconds(b0, b1);
  }
  times->total_s = Seconds(l0, Clock::now());
  return row_of;
}

}  // namespace hartonomous::bench
