// The workloads hartonomous-bench knows, by name, and the data they send.
//
//   health         grpc.health.v1 Check: the bare round trip, as a reference
//   search         Search: one Fashion-MNIST test image per call (k, ef)
//   batch-search   BatchSearch: --queries-per-call test images per call
//   hybrid         HybridSearch: spatial prefilter keeping --keep-fraction
//   get-atom       GetAtom with content of atoms ingested by Prepare
//   ingest-atoms   IngestAtoms streams of --atoms-per-call text atoms
//   ingest-atom    IngestAtom of one text atom; --prepare-atoms distinct
//                  contents, repeated after that (a reference more each)
//   ingest-docs    IngestDocument streams of one text file each
//   log-inference  LogInference of a prompt/answer pair from the text corpus
//   import-model   ImportModel streams of --model-file under a new name
//
// Vectors come from --train/--queries (Fashion-MNIST IDX, .npy or .fvecs),
// text from the regular files under --text-dir (Debian's license texts by
// default). Every written item carries --nonce (default: the start time) so
// repeated runs against one server write new content unless asked not to.
//
// Thread-safety: a WorkloadData is immutable once built and shared by the
// workloads; see workload.h for the workloads themselves.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../../cli/vector_files.h"
#include "bench_flags.h"
#include "workload.h"

namespace hartonomous::bench {

struct WorkloadConfig {
  std::string collection = "bench-fmnist";
  std::string train_path, queries_path;
  uint64_t vectors = 60000;  // rows loaded into the collection
  uint64_t query_count = 1000;
  uint32_t k = 10;
  uint32_t ef = 0;  // 0 = the collection's
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  uint32_t queries_per_call = 10;
  double keep_fraction = 0.05;
  std::string text_dir;
  uint32_t atoms_per_call = 100;
  uint32_t atom_bytes = 1024;
  uint32_t prepare_atoms = 10000;
  std::string model_file;
  std::string nonce;
  bool prepare = true;  // false: assume the server is ready
};

// The workload names in help order.
const std::vector<std::string>& WorkloadNames();

// Text from every regular file under dir (sorted, at most max_bytes in all).
struct TextCorpus {
  std::vector<std::string> files;  // contents
  std::string joined;              // every file, concatenated
};
bool ReadTextCorpus(const std::string& dir, size_t max_bytes, TextCorpus* corpus,
                    std::string* error);

// The named workload over config, or null with *error set.
std::unique_ptr<Workload> MakeWorkload(const std::string& name, const WorkloadConfig& config,
                                       std::string* error);

// The individual makers (one file each).
std::unique_ptr<Workload> MakeSearchWorkload(const std::string& kind, const WorkloadConfig& config,
                                             std::string* error);
std::unique_ptr<Workload> MakeAtomWorkload(const std::string& kind, const WorkloadConfig& config,
                                           std::string* error);
std::unique_ptr<Workload> MakeDocumentWorkload(const WorkloadConfig& config, std::string* error);
std::unique_ptr<Workload> MakeInferenceWorkload(const WorkloadConfig& config, std::string* error);
std::unique_ptr<Workload> MakeModelWorkload(const WorkloadConfig& config, std::string* error);
std::unique_ptr<Workload> MakeHealthWorkload();

}  // namespace hartonomous::bench
