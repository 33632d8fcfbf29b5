#include "ingest.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli_errors.h"
#include "commands.h"
#include "format.h"
#include "hartonomous/client.h"
#include "input_files.h"
#include "json_output.h"
#include "modality.h"
#include "progress.h"
#include "vectors.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;

struct IngestSettings {
  std::string modality;  // empty = guess per file
  std::string subtype;   // empty = guess per file
  bool subtype_given = false;
  std::string source_type;
  std::string metadata;  // validated JSON object text, or empty
  uint64_t max_stream_bytes = kDefaultMaxStreamBytes;
  std::string policy;      // deduplication policy, empty = SHA-256 only
  std::string collection;  // with vector: the atom's embedding
  std::vector<float> vector;
};

// What the committed streams returned, in input order.
struct IngestTotals {
  std::vector<std::pair<std::string, v1::IngestAtomResponse>> results;
  uint64_t atoms_created = 0;
  uint64_t atoms_reused = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_stored = 0;
  uint64_t transactions = 0;
};

// Components separated by commas and/or whitespace, e.g. "1,2.5,-3".
IngestSettings ReadSettings(const Invocation& invocation) {
  IngestSettings settings;
  settings.modality = invocation.Get("modality");
  settings.subtype_given = invocation.Has("subtype");
  settings.subtype = invocation.Get("subtype");
  settings.source_type = invocation.Get("source-type", "file");
  settings.max_stream_bytes = invocation.GetUint("max-stream-bytes", kDefaultMaxStreamBytes);
  if (settings.max_stream_bytes == 0) {
    throw UsageError("--max-stream-bytes must be at least 1");
  }
  if (invocation.Has("modality") && settings.modality.empty()) {
    throw UsageError("--modality needs a non-empty name");
  }
  if (invocation.Has("metadata")) {
    settings.metadata = invocation.Get("metadata");
    const auto parsed = nlohmann::json::parse(settings.metadata, nullptr,
                                              /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      throw UsageError("--metadata must be a JSON object, e.g. '{\"k\": \"v\"}'");
    }
  }
  settings.policy = invocation.Get("policy");
  settings.collection = invocation.Get("collection");
  if (invocation.Has("vector") && invocation.Has("vector-file")) {
    throw UsageError("--vector and --vector-file: give one of them");
  }
  if (invocation.Has("vector")) {
    settings.vector = ParseVector(invocation.Get("vector"), "--vector");
  } else if (invocation.Has("vector-file")) {
    const std::string path = invocation.Get("vector-file");
    std::ifstream in(path);
    if (!in) throw UsageError("--vector-file: cannot read '" + path + "'");
    std::stringstream text;
    text << in.rdbuf();
    settings.vector = ParseVector(text.str(), "--vector-file");
  }
  if (settings.vector.empty() != settings.collection.empty()) {
    throw UsageError("--collection and --vector (or --vector-file) go together");
  }
  if (!settings.vector.empty() && invocation.args.size() != 1) {
    throw UsageError("--vector and --vector-file describe one atom: give exactly one input");
  }
  return settings;
}

v1::IngestAtomRequest MakeRequest(const InputFile& input, std::string content,
                                  const IngestSettings& settings) {
  v1::IngestAtomRequest request;
  const std::string name = input.is_stdin ? "" : input.path;
  request.set_modality(settings.modality.empty() ? GuessModality(name, content)
                                                 : settings.modality);
  request.set_subtype(settings.subtype_given ? settings.subtype : GuessSubtype(name, content));
  request.set_source_uri(input.source_uri);
  request.set_source_type(settings.source_type);
  request.set_metadata(settings.metadata);
  if (request.modality() == "text" && content.size() <= kMaxCanonicalTextBytes &&
      IsValidUtf8(content)) {
    request.set_canonical_text(content);
  }
  request.set_content(std::move(content));
  SetDedup(&request, settings.policy, settings.collection, settings.vector);
  return request;
}

// What an atom counts against the server's stream limit (--max-batch-bytes
// counts every byte of a stream, on the wire or once parsed, whichever is
// larger), with room for the message framing around it.
uint64_t StreamCost(const v1::IngestAtomRequest& request) {
  return std::max<uint64_t>(request.ByteSizeLong(), request.SpaceUsedLong()) + 128;
}

// One open IngestAtoms stream and the inputs written to it.
class Transaction {
 public:
  explicit Transaction(Client* client) : stream_(client->OpenIngestStream()) {}

  uint64_t bytes() const { return bytes_; }
  bool empty() const { return paths_.empty(); }

  // Returns false when the stream broke; Commit() then reports why.
  bool Write(const std::string& path, v1::IngestAtomRequest request) {
    bytes_ += StreamCost(request);
    paths_.push_back(path);
    return stream_->Write(std::move(request));
  }

  // Closes the stream, waits for the commit and adds its results to `totals`.
  // Throws Failure when the server failed the stream.
  void Commit(IngestTotals* totals) {
    v1::IngestAtomsResponse response;
    const grpc::Status status = stream_->Finish(&response);
    if (!status.ok()) throw RpcFailure(Annotate(status));
    if (static_cast<size_t>(response.results_size()) != paths_.size()) {
      throw Failure("server returned " + std::to_string(response.results_size()) + " results for " +
                    std::to_string(paths_.size()) + " atoms");
    }
    for (int i = 0; i < response.results_size(); ++i) {
      totals->results.emplace_back(paths_[i], std::move(*response.mutable_results(i)));
    }
    totals->atoms_created += response.atoms_created();
    totals->atoms_reused += response.atoms_reused();
    totals->bytes_received += response.bytes_received();
    totals->bytes_stored += response.bytes_stored();
    ++totals->transactions;
  }

 private:
  // The server names a failed atom by its index on this stream, "atoms[N]...";
  // add the file it came from.
  grpc::Status Annotate(const grpc::Status& status) const {
    const std::string& message = status.error_message();
    constexpr std::string_view kPrefix = "atoms[";
    if (message.compare(0, kPrefix.size(), kPrefix) != 0) return status;
    size_t index = 0;
    const char* begin = message.data() + kPrefix.size();
    const char* end = message.data() + message.size();
    const auto [ptr, ec] = std::from_chars(begin, end, index);
    if (ec != std::errc() || ptr == end || *ptr != ']' || index >= paths_.size()) {
      return status;
    }
    return grpc::Status(status.error_code(), message + " (atoms[" + std::to_string(index) +
                                                 "] is '" + paths_[index] + "')");
  }

  std::unique_ptr<IngestStream> stream_;
  std::vector<std::string> paths_;
  uint64_t bytes_ = 0;
};

// Streams every input; totals holds what was committed even when this throws.
void IngestAll(const std::vector<InputFile>& inputs, const IngestSettings& settings, Client* client,
               IngestTotals* totals) {
  uint64_t total_bytes = 0;
  bool all_sizes_known = true;
  for (const InputFile& input : inputs) {
    total_bytes += input.size;
    all_sizes_known = all_sizes_known && input.size_known;
  }
  ProgressBar progress(STDERR_FILENO, inputs.size(), all_sizes_known ? total_bytes : 0);

  std::unique_ptr<Transaction> transaction;
  uint64_t bytes_done = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    progress.Update(i, bytes_done);
    const InputFile& input = inputs[i];
    std::string content = ReadInput(input);
    if (content.empty()) {
      throw Failure("'" + input.path + "' is empty; an atom needs at least one byte of content");
    }
    if (content.size() > kMaxAtomBytes) {
      throw Failure("'" + input.path + "' is " + FormatBytes(content.size()) +
                    "; one atom can be at most " + FormatBytes(kMaxAtomBytes));
    }
    const uint64_t size = content.size();
    v1::IngestAtomRequest request = MakeRequest(input, std::move(content), settings);
    if (transaction != nullptr && !transaction->empty() &&
        transaction->bytes() + StreamCost(request) > settings.max_stream_bytes) {
      transaction->Commit(totals);
      transaction.reset();
    }
    if (transaction == nullptr) transaction = std::make_unique<Transaction>(client);
    if (!transaction->Write(input.path, std::move(request))) {
      break;  // the server failed the stream; Commit() reports its status
    }
    bytes_done += size;
  }
  progress.Update(inputs.size(), bytes_done);
  transaction->Commit(totals);
}  // ~ProgressBar erases the bar before anything else is printed

// "policy p: semantic match of atom 3 (similarity 0.97)",
// "policy p: none (nearest atom 3, similarity 0.5)".
std::string DescribeDedup(const v1::DedupDecision& d) {
  std::ostringstream out;
  out << "policy " << d.policy() << ": " << d.rule();
  if (d.rule() == "semantic" || d.rule() == "spatial" || d.rule() == "hash") {
    out << " match of atom " << d.matched_atom_id();
  }
  std::vector<std::string> nearest;
  // "similarity 0.5", after "nearest atom 3, " when nothing matched.
  auto add_nearest = [&](uint64_t atom_id, const char* measure, double value) {
    std::ostringstream n;
    n << (d.rule() == "none" ? "nearest atom " + std::to_string(atom_id) + ", " : std::string())
      << measure << " " << value;
    nearest.push_back(n.str());
  };
  if (d.has_semantic_nearest()) {
    add_nearest(d.semantic_nearest().atom_id(), "similarity", d.semantic_nearest().similarity());
  }
  if (d.has_spatial_nearest()) {
    add_nearest(d.spatial_nearest().atom_id(), "distance", d.spatial_nearest().distance());
  }
  for (size_t i = 0; i < nearest.size(); ++i) out << (i == 0 ? " (" : "; ") << nearest[i];
  if (!nearest.empty()) out << ")";
  return out.str();
}

void PrintTotals(const IngestTotals& totals, bool json) {
  if (json) {
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    for (const auto& [path, result] : totals.results) {
      results.push_back(IngestResultToJson(result, path));
    }
    PrintJson(std::cout, {{"results", std::move(results)},
                          {"atoms_created", totals.atoms_created},
                          {"atoms_reused", totals.atoms_reused},
                          {"bytes_received", totals.bytes_received},
                          {"bytes_stored", totals.bytes_stored},
                          {"transactions", totals.transactions}});
    return;
  }
  for (const auto& [path, result] : totals.results) {
    std::cout << result.atom_id() << "  " << result.content_hash()
              << "  refs=" << result.reference_count() << "  "
              << (result.created() ? "created" : "reused ") << "  " << path;
    if (!result.dedup().policy().empty()) std::cout << "  " << DescribeDedup(result.dedup());
    std::cout << '\n';
  }
  std::cout << totals.results.size() << (totals.results.size() == 1 ? " file" : " files") << ": "
            << totals.atoms_created << " created, " << totals.atoms_reused << " reused; "
            << FormatBytes(totals.bytes_received) << " received, "
            << FormatBytes(totals.bytes_stored) << " stored";
  if (totals.transactions > 1) {
    std::cout << " (" << totals.transactions << " transactions)";
  }
  std::cout << '\n';
}

}  // namespace

std::vector<OptionSpec> IngestOptions() {
  return {
      {"modality", 0, "M", "modality of every atom (default: guessed per file)"},
      {"subtype", 0, "S", "subtype of every atom (default: the file's extension)"},
      {"source-type", 0, "T", "source_type of every atom (default: file)"},
      {"metadata", 0, "JSON", "a JSON object stored with every atom"},
      {"policy", 0, "NAME", "deduplication policy to apply (default: exact SHA-256 matching only)"},
      {"collection", 0, "C", "store the atom with an embedding in collection C (one input)"},
      {"vector", 0, "V", "the embedding: numbers separated by commas, e.g. 1,0,0.5"},
      {"vector-file", 0, "PATH",
       "the embedding read from a file (numbers separated by commas or whitespace)"},
      {"recursive", 'r', "", "ingest the regular files under directory arguments"},
      {"max-stream-bytes", 0, "N",
       "start a new stream (transaction) when the bytes sent on the current one "
       "(all fields, as the server counts them) would exceed N bytes "
       "(default: 268435456 = 256 MiB)"},
  };
}

void RunIngest(const Invocation& invocation) {
  const IngestSettings settings = ReadSettings(invocation);
  InputOptions input_options;
  input_options.recursive = invocation.Has("recursive");
  const std::vector<InputFile> inputs = CollectInputs(invocation.args, input_options);

  Client client(MakeClientOptions(invocation.global));

  IngestTotals totals;
  try {
    IngestAll(inputs, settings, &client, &totals);
  } catch (const Failure&) {
    if (!totals.results.empty()) {
      PrintTotals(totals, invocation.global.json);
      std::cerr << "note: the " << totals.results.size() << " file(s) above were committed by "
                << totals.transactions
                << " earlier transaction(s); the failed transaction committed nothing\n";
    }
    throw;
  }
  PrintTotals(totals, invocation.global.json);
}

}  // namespace hartonomous::cli
