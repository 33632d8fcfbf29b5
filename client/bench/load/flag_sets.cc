#include "flag_sets.h"

namespace hartonomous::bench {

std::vector<FlagSpec> ServerFlags() {
  return {{"server", "127.0.0.1:50051", "hartonomousd address"},
          {"server-pid", "0", "the server's pid, to record its RSS and CPU (0 = unknown)"}};
}

std::vector<FlagSpec> VectorDataFlags(const char* nq_default) {
  return {{"train", "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
           "vectors loaded into a new collection (IDX, .npy, .fvecs)"},
          {"queries", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
           "query vectors (IDX, .npy, .fvecs)"},
          {"vectors", "60000", "rows of --train loaded"},
          {"nq", nq_default, "rows of --queries used"},
          {"k", "10", "results per query"},
          {"m", "16", "HNSW M of a new collection"},
          {"ef-construction", "200", "HNSW ef_construction of a new collection"}};
}

std::vector<FlagSpec> ReportFlags() {
  return {{"json-out", "", "write the JSON report to this file"},
          {"json", "", "print the JSON report on stdout instead of the summary", true},
          {"help", "", "this text", true}};
}

std::vector<FlagSpec> JoinFlags(std::initializer_list<std::vector<FlagSpec>> tables) {
  std::vector<FlagSpec> out;
  for (const auto& table : tables) out.insert(out.end(), table.begin(), table.end());
  return out;
}

}  // namespace hartonomous::bench
