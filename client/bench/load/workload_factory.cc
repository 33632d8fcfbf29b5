#include "workload_factory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hartonomous::bench {

const std::vector<std::string>& WorkloadNames() {
  static const std::vector<std::string> kNames = {
      "health",       "search",      "batch-search", "hybrid",        "get-atom",
      "ingest-atoms", "ingest-atom", "ingest-docs",  "log-inference", "import-model"};
  return kNames;
}

bool ReadTextCorpus(const std::string& dir, size_t max_bytes, TextCorpus* corpus,
                    std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> paths;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) paths.push_back(it->path());
  }
  if (ec) {
    *error = "--text-dir " + dir + ": " + ec.message();
    return false;
  }
  std::sort(paths.begin(), paths.end());
  for (const fs::path& path : paths) {
    if (corpus->joined.size() >= max_bytes) break;
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::string text = bytes.str();
    if (text.empty()) continue;
    if (text.size() > max_bytes - corpus->joined.size()) {
      text.resize(max_bytes - corpus->joined.size());
    }
    corpus->joined += text;
    corpus->files.push_back(std::move(text));
  }
  if (corpus->files.empty()) {
    *error = "--text-dir " + dir + ": no readable regular files";
    return false;
  }
  return true;
}

std::unique_ptr<Workload> MakeWorkload(const std::string& name, const WorkloadConfig& config,
                                       std::string* error) {
  if (name == "search" || name == "batch-search" || name == "hybrid") {
    return MakeSearchWorkload(name, config, error);
  }
  if (name == "get-atom" || name == "ingest-atoms" || name == "ingest-atom") {
    return MakeAtomWorkload(name, config, error);
  }
  if (name == "ingest-docs") return MakeDocumentWorkload(config, error);
  if (name == "log-inference") return MakeInferenceWorkload(config, error);
  if (name == "import-model") return MakeModelWorkload(config, error);
  if (name == "health") return MakeHealthWorkload();
  std::string known;
  for (const std::string& n : WorkloadNames()) known += (known.empty() ? "" : ", ") + n;
  *error = "unknown workload '" + name + "' (known: " + known + ")";
  return nullptr;
}

}  // namespace hartonomous::bench
