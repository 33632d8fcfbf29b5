// Helpers shared by hartonomous-bench's search suites (vector-suite,
// hybrid-suite, restart-probe): timing, parallel runs, recall against brute
// force, /proc memory figures, clients and the vector data.
//
// Thread-safety: RunParallel calls fn from `threads` threads at once; the
// other functions are pure or read-only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../cli/vector_files.h"
#include "hartonomous/client.h"
#include "load/bench_flags.h"

namespace hartonomous::bench {

using Clock = std::chrono::steady_clock;
// Per query, the row numbers of its answer, nearest first.
using Results = std::vector<std::vector<uint64_t>>;

double Seconds(Clock::time_point a, Clock::time_point b);
// Prints "<program>: message" on stderr and exits 1.
[[noreturn]] void Die(const std::string& message);
void SetProgramName(const char* name);
void Check(const grpc::Status& s, const char* what);
// Mean recall@k of got against truth.
double Recall(const Results& got, const Results& truth, size_t k);
// kB values of the "Vm*"/"Rss*" lines of /proc/<pid>/status.
std::map<std::string, double> ProcStatus(const std::string& pid);
// Runs units 0..units-1 on `threads` threads (thread t takes t, t+threads,
// ...); fn(thread, unit) does one unit. Returns the wall time; each unit's
// latency in ms goes to *latency_ms.
double RunParallel(size_t threads, size_t units, const std::function<void(size_t, size_t)>& fn,
                   std::vector<double>* latency_ms);
// Exact top-k of each query among the rows accepted by keep (all if null),
// on every core.
using DistanceFn = std::function<float(const float* a, const float* b)>;
Results BruteForce(const DistanceFn& distance, const std::vector<float>& train, size_t n,
                   const std::vector<float>& queries, size_t nq, size_t dim, size_t k,
                   const std::function<bool(size_t)>& keep);

// The flags vector-suite and hybrid-suite add to VectorDataFlags: --batch
// (rows per load call), --index-kind, --rotate.
std::vector<FlagSpec> SearchLoadFlags();

// The values of --k, --m, --ef-construction and --batch, checked (FlagError).
struct SearchParams {
  size_t k = 0, m = 0, ef_construction = 0, batch = 0;
};
SearchParams ReadSearchParams(const BenchFlags& flags);

// Options for a server at target, with a 10-minute deadline per call and the
// API key and TLS files of the clients' environment (Die when those cannot
// be read).
ClientOptions ServerOptions(const std::string& target);
// A client of options, once the server is serving.
std::unique_ptr<Client> ConnectToServer(const ClientOptions& options);
// The spec of an L2 HNSW collection of embedding_type type.
// kind: the index kind ("hnsw", "hnsw_sq8", ...).
v1::CollectionSpec HnswL2Spec(const std::string& type, size_t dimension, size_t m,
                              size_t ef_construction, const std::string& kind = "hnsw");

// A Search or HybridSearch request for the k nearest to the dim floats at
// query in collection.
template <typename Request>
Request NearestRequest(const std::string& collection, const float* query, size_t dim, size_t k) {
  Request request;
  request.set_collection(collection);
  request.mutable_vector()->Add(query, query + dim);
  request.set_limit(static_cast<uint32_t>(k));
  return request;
}

// `count` clients of `options`, each on its own connection, each serving.
std::vector<std::unique_ptr<Client>> MakeClients(const ClientOptions& options, size_t count);

// The training rows (at most --vectors) and queries (at most --nq) of a
// suite, read from the --train and --queries files.
struct SearchData {
  cli::VectorFile train, queries;
  size_t dim = 0, n = 0, nq = 0;
};
// The --train and --queries files (--vectors and --nq rows). With --rotate 1
// both are rotated by one seeded random orthonormal map (random signs, zero
// padding to a power of two, Walsh-Hadamard transform): L2 distances are
// kept (up to rounding), the values are no longer 8-bit pixels.
SearchData ReadSearchData(const BenchFlags& flags);

struct LoadTimes {
  double total_s = 0;       // first batch .. last
  double atoms_s = 0;       // inside IngestAtoms
  double embeddings_s = 0;  // inside AddEmbeddings (durable, indexed)
};
// One atom per row (content: the row's raw bytes, or its floats, plus "#row"
// so that duplicate rows stay distinct rows; metadata(row) may be empty) and
// its embedding in `collection` (created from spec), `batch` rows per
// IngestAtoms and AddEmbeddings call. Fills atom_of[row]; returns atom id ->
// row.
std::unordered_map<uint64_t, uint64_t> LoadRows(Client& client, const std::string& collection,
                                                const v1::CollectionSpec& spec,
                                                const cli::VectorFile& rows, size_t batch,
                                                const std::function<std::string(size_t)>& metadata,
                                                std::vector<uint64_t>* atom_of, LoadTimes* times);

}  // namespace hartonomous::bench
