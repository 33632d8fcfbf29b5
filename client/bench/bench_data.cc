#include "bench_data.h"

#include <glob.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

namespace hartonomous::bench {
namespace {

namespace fs = std::filesystem;

// Step between the text windows of consecutive content ids: a prime, so the
// window start offsets visit every position of the corpus before repeating.
constexpr size_t kWindowStep = 7919;
constexpr size_t kMinAtomBytes = 32;

std::string HexSha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

// Regular text files named by paths, which may be glob(3) patterns (a
// directory contributes the regular files directly inside it), canonical,
// sorted, without repeats; .gz files skipped.
std::vector<std::string> ListCorpusFiles(const std::vector<std::string>& paths) {
  std::set<std::string> files;
  std::error_code ec;
  auto add = [&](const fs::path& path) {
    if (!fs::is_regular_file(path, ec) || path.extension() == ".gz") return;
    fs::path canonical = fs::canonical(path, ec);
    if (!ec) files.insert(canonical.string());
  };
  for (const auto& pattern : paths) {
    glob_t matches{};
    if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches) != 0) continue;
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      const fs::path path = matches.gl_pathv[i];
      if (fs::is_directory(path, ec)) {
        for (const auto& entry : fs::directory_iterator(path, ec)) add(entry.path());
      } else {
        add(path);
      }
    }
    globfree(&matches);
  }
  return {files.begin(), files.end()};
}

}  // namespace

std::string CheckDataOptions(const DataOptions& options) {
  if (options.atoms == 0) return "--atoms must be at least 1";
  if (options.atom_bytes < kMinAtomBytes) return "--atom-bytes must be at least 32";
  if (options.clients < 1 || options.clients > 256) return "--clients must be in [1, 256]";
  if (options.batch == 0) return "--batch must be at least 1";
  if (!(options.dup_fraction >= 0.0 && options.dup_fraction < 1.0)) {
    return "--dup-fraction must be in [0, 1)";
  }
  if (options.atoms > 0xffffffffu) return "--atoms must be below 2^32";
  return {};
}

bool MakeAtomPlan(const DataOptions& options, AtomPlan* plan, std::string* error) {
  *plan = AtomPlan();
  if (std::string message = CheckDataOptions(options); !message.empty()) {
    *error = message;
    return false;
  }

  // The corpus: every file's text, one after another, with the start offset
  // of each file kept to name an atom's source.
  std::string corpus;
  std::vector<size_t> file_starts;
  for (const auto& file : ListCorpusFiles(options.corpus_paths)) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::string body = text.str();
    if (!in || body.empty() || body.find('\0') != std::string::npos) continue;  // binary
    if (plan->source_files.size() == 0xffff) break;
    file_starts.push_back(corpus.size());
    plan->source_files.push_back(file);
    corpus += body;
    if (corpus.back() != '\n') corpus += '\n';
  }
  plan->corpus_bytes = corpus.size();
  if (corpus.size() < options.atom_bytes) {
    *error = "--corpus: the text found (" + std::to_string(corpus.size()) +
             " bytes) is shorter than one atom";
    return false;
  }

  // Which global slots repeat earlier content. Slot g belongs to client
  // g % clients, at position g / clients of its sequence, so the global order
  // interleaves the clients as they run side by side.
  const size_t n = options.atoms;
  const size_t dups =
      static_cast<size_t>(std::llround(static_cast<double>(n) * options.dup_fraction));
  std::vector<uint8_t> is_dup(n, 0);
  std::fill(is_dup.begin(), is_dup.begin() + static_cast<ptrdiff_t>(std::min(dups, n - 1)), 1);
  std::mt19937_64 rng(options.seed);
  std::shuffle(is_dup.begin(), is_dup.end(), rng);
  if (is_dup[0]) {  // the first slot can't repeat anything
    auto fresh = std::find(is_dup.begin(), is_dup.end(), 0);
    std::swap(is_dup[0], *fresh);
  }

  // A duplicate repeats, with equal chance, content of the recent slots (those
  // likely in flight in a concurrent batch) or any content sent before.
  const size_t recent = std::max<size_t>(1, options.batch * static_cast<size_t>(options.clients));
  std::vector<uint32_t> slot_content(n);
  uint32_t next_content = 0;
  for (size_t g = 0; g < n; ++g) {
    if (!is_dup[g]) {
      slot_content[g] = next_content++;
      continue;
    }
    const uint32_t low =
        (rng() & 1) && next_content > recent ? next_content - static_cast<uint32_t>(recent) : 0;
    slot_content[g] = low + static_cast<uint32_t>(rng() % (next_content - low));
  }

  // Distinct contents: a unique prefix, then a window of real text.
  plan->contents.resize(next_content);
  plan->hashes.resize(next_content);
  plan->source_file.resize(next_content);
  const size_t windows = corpus.size() - options.atom_bytes + 1;
  for (uint32_t id = 0; id < next_content; ++id) {
    char prefix[64];
    const int len = std::snprintf(prefix, sizeof(prefix), "[%s#%07u] ", options.tag.c_str(), id);
    std::string content(prefix, static_cast<size_t>(std::max(len, 0)));
    if (content.size() + 16 > options.atom_bytes) {
      *error = "--tag is too long for --atom-bytes";
      return false;
    }
    const size_t offset = (static_cast<size_t>(id) * kWindowStep + options.seed) % windows;
    content.append(corpus, offset, options.atom_bytes - content.size());
    auto file = std::upper_bound(file_starts.begin(), file_starts.end(), offset) - 1;
    plan->source_file[id] = static_cast<uint16_t>(file - file_starts.begin());
    plan->hashes[id] = HexSha256(content);
    plan->contents[id] = std::move(content);
  }

  // Per client, its slots in order, cut into batches.
  const size_t clients = static_cast<size_t>(options.clients);
  plan->batches.resize(clients);
  for (size_t g = 0; g < n; ++g) {
    auto& client = plan->batches[g % clients];
    if (client.empty() || client.back().size() == options.batch) {
      client.emplace_back();
      client.back().reserve(options.batch);
    }
    client.back().push_back(slot_content[g]);
    plan->content_bytes += plan->contents[slot_content[g]].size();
  }
  plan->atoms = n;
  return true;
}

}  // namespace hartonomous::bench
