#include "document_ingest.h"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "cli_errors.h"
#include "json_output.h"
#include "modality.h"

namespace hartonomous::cli {
namespace {

const char* OutcomeName(FileOutcome outcome) {
  switch (outcome) {
    case FileOutcome::kNotAttempted:
      return "not_attempted";
    case FileOutcome::kCreated:
      return "created";
    case FileOutcome::kReused:
      return "reused";
    case FileOutcome::kUnchanged:
      return "unchanged";
    case FileOutcome::kReplaced:
      return "replaced";
    case FileOutcome::kFailed:
      return "failed";
  }
  return "";
}

uint64_t TotalBytes(const std::vector<InputFile>& inputs) {
  uint64_t total = 0;
  for (const auto& in : inputs) total += in.size_known ? in.size : 0;
  return total;
}

// The part of a file:// URI after "file://": the percent-encoded path.
std::string EncodedPath(const std::string& file_uri) {
  constexpr std::string_view kScheme = "file://";
  return file_uri.substr(0, kScheme.size()) == kScheme ? file_uri.substr(kScheme.size()) : file_uri;
}

}  // namespace

DocumentIngest::DocumentIngest(Client& client, std::vector<InputFile> inputs,
                               DocumentIngestOptions options)
    : client_(client),
      inputs_(std::move(inputs)),
      options_(std::move(options)),
      results_(inputs_.size()),
      done_(inputs_.size(), false),
      progress_(STDERR_FILENO, inputs_.size(), TotalBytes(inputs_)) {}

std::string DocumentIngest::SourceUri(const InputFile& input) const {
  if (options_.no_source || input.is_stdin) return "";
  if (options_.source_prefix.empty()) return input.source_uri;
  // The path as given, percent-encoded as in a file URI, after the prefix.
  std::string encoded = EncodedPath(FileUri(input.path));
  const std::string absolute_prefix = EncodedPath(FileUri("."));
  if (input.path.empty() || input.path[0] != '/') {
    // Relative paths stay relative: drop the current directory FileUri added.
    if (encoded.substr(0, absolute_prefix.size() + 1) == absolute_prefix + "/") {
      encoded = encoded.substr(absolute_prefix.size() + 1);
    }
  } else if (!encoded.empty() && encoded[0] == '/') {
    encoded = encoded.substr(1);
  }
  return options_.source_prefix + encoded;
}

void DocumentIngest::Stop() {
  MutexLock lock(&mu_);
  stopping_ = true;
  interrupted_ = true;
  stop_reason_ = "interrupted by a signal";
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
}

FileResult DocumentIngest::Process(size_t index) {
  const InputFile& in = inputs_[index];
  FileResult r;
  if (!in.problem.empty()) {
    r.outcome = FileOutcome::kFailed;
    r.error = in.problem;
    return r;
  }
  // The file's bytes count against kMaxBytesInFlight from before it is read
  // until its stream ends (a file of unknown size counts as empty).
  const uint64_t hold = in.size_known ? in.size : 0;
  {
    MutexLock lock(&mu_);
    while (bytes_held_ > 0 && bytes_held_ + hold > kMaxBytesInFlight && !stopping_) {
      bytes_released_.Wait(&mu_);
    }
    bytes_held_ += hold;
  }
  struct Release {
    DocumentIngest* self;
    uint64_t bytes;
    ~Release() {
      MutexLock lock(&self->mu_);
      self->bytes_held_ -= bytes;
      self->bytes_released_.SignalAll();
    }
  } release{this, hold};
  std::string content;
  r.error = ReadInputChecked(in, &content);
  if (!r.error.empty()) {
    r.outcome = FileOutcome::kFailed;
    return r;
  }
  r.bytes = content.size();
  if (content.empty()) {
    r.outcome = FileOutcome::kFailed;
    r.error = "empty; a document needs at least one byte";
    return r;
  }
  // The server chooses the modality from the content (the same rules as
  // DetectContent); only text in another encoding needs a decision here.
  if (options_.convert_latin1 && options_.header.modality().empty() &&
      DetectContent(in.path, content).format == "binary" && LooksLikeLatin1Text(content)) {
    content = Latin1ToUtf8(content);
    r.converted = true;
  }
  v1::IngestDocumentRequest request = options_.header;
  request.set_source_uri(SourceUri(in));
  grpc::ClientContext context;
  {
    MutexLock lock(&mu_);
    if (stopping_) return FileResult{};  // not attempted
    in_flight_.insert(&context);
  }
  uint64_t reported = 0;
  const grpc::Status status =
      client_.IngestDocument(&context, request, content, &r.response, [&](uint64_t sent) {
        MutexLock lock(&mu_);
        bytes_sent_ += sent - reported;
        reported = sent;
        progress_.Update(files_done_, bytes_sent_);
      });
  MutexLock lock(&mu_);
  in_flight_.erase(&context);
  bytes_sent_ -= reported;  // counted again, whole, when the file is finished
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::CANCELLED && interrupted_) {
      r.outcome = FileOutcome::kNotAttempted;
      r.error = "cancelled by the interrupt; nothing of it was stored";
      return r;
    }
    r.outcome = FileOutcome::kFailed;
    r.error = std::string(StatusCodeName(status.error_code())) + ": " + status.error_message();
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE && !stopping_) {
      // Every later file would fail the same way.
      stopping_ = true;
      stop_reason_ = "the server is unavailable";
    }
    return r;
  }
  const auto& response = r.response;
  r.outcome = response.unchanged()                   ? FileOutcome::kUnchanged
              : response.replaced_document_id() != 0 ? FileOutcome::kReplaced
              : response.created()                   ? FileOutcome::kCreated
                                                     : FileOutcome::kReused;
  return r;
}

void DocumentIngest::Finish(size_t index, FileResult result) {
  MutexLock lock(&mu_);
  if (result.outcome == FileOutcome::kFailed && options_.fail_fast && !stopping_) {
    stopping_ = true;
    stop_reason_ = "--fail-fast: '" + inputs_[index].path + "' failed";
  }
  ++files_done_;
  bytes_sent_ += result.bytes;
  results_[index] = std::move(result);
  done_[index] = true;
  PrintReady();
  progress_.Update(files_done_, bytes_sent_);
}

void DocumentIngest::Work() {
  while (true) {
    size_t index;
    {
      MutexLock lock(&mu_);
      if (stopping_ || next_ >= inputs_.size()) return;
      index = next_++;
    }
    FileResult result = Process(index);
    Finish(index, std::move(result));
  }
}

void DocumentIngest::PrintReady() {
  if (options_.json) return;  // one object at the end
  bool printed = false;
  while (printed_ < inputs_.size() && done_[printed_]) {
    const FileResult& r = results_[printed_];
    const std::string& path = inputs_[printed_].path;
    ++printed_;
    if (r.outcome == FileOutcome::kNotAttempted) continue;
    if (!printed) progress_.Clear();
    printed = true;
    if (r.outcome == FileOutcome::kFailed) {
      std::cout.flush();
      std::cerr << "error: " << path << ": " << r.error << "\n";
      continue;
    }
    const auto& response = r.response;
    std::cout << response.document_id() << "  " << response.format()
              << "  parts=" << response.parts() << "  atoms created=" << response.atoms_created()
              << " reused=" << response.atoms_reused()
              << "  bytes stored=" << response.bytes_stored() << "/" << response.bytes_received()
              << "  " << OutcomeName(r.outcome);
    if (r.outcome == FileOutcome::kReplaced) std::cout << " " << response.replaced_document_id();
    if (r.converted) std::cout << " (latin1->utf8)";
    std::cout << "  " << path << "\n";
  }
  if (printed) std::cout.flush();
}

DocumentIngestTotals DocumentIngest::Run() {
  const auto start = std::chrono::steady_clock::now();
  const unsigned jobs =
      std::max(1u, std::min<unsigned>(options_.jobs, static_cast<unsigned>(inputs_.size())));
  std::vector<std::thread> workers;
  workers.reserve(jobs);
  for (unsigned j = 0; j < jobs; ++j) workers.emplace_back([this] { Work(); });
  for (auto& w : workers) w.join();

  MutexLock lock(&mu_);
  // Inputs never started still print as "not attempted" (skipped above).
  for (size_t i = 0; i < inputs_.size(); ++i) done_[i] = true;
  PrintReady();
  progress_.Clear();
  DocumentIngestTotals t;
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  t.interrupted = interrupted_;
  t.stop_reason = stop_reason_;
  t.files = inputs_.size();
  for (const FileResult& r : results_) {
    switch (r.outcome) {
      case FileOutcome::kNotAttempted:
        ++t.not_attempted;
        continue;
      case FileOutcome::kFailed:
        ++t.failed;
        continue;
      case FileOutcome::kCreated:
        ++t.created;
        break;
      case FileOutcome::kReused:
        ++t.reused;
        break;
      case FileOutcome::kUnchanged:
        ++t.unchanged;
        break;
      case FileOutcome::kReplaced:
        ++t.replaced;
        break;
    }
    t.converted += r.converted ? 1 : 0;
    t.bytes += r.bytes;
    t.atoms_created += r.response.atoms_created();
    t.atoms_reused += r.response.atoms_reused();
    t.bytes_received += r.response.bytes_received();
    t.bytes_stored += r.response.bytes_stored();
  }
  PrintSummary(t);
  return t;
}

void DocumentIngest::PrintSummary(const DocumentIngestTotals& t) {
  const double mb_per_s = t.seconds > 0 ? static_cast<double>(t.bytes) / 1e6 / t.seconds : 0.0;
  if (options_.json) {
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    nlohmann::ordered_json failures = nlohmann::ordered_json::array();
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const FileResult& r = results_[i];
      const auto& p = r.response;
      nlohmann::ordered_json item = {{"path", inputs_[i].path}, {"status", OutcomeName(r.outcome)}};
      if (r.outcome == FileOutcome::kFailed || r.outcome == FileOutcome::kNotAttempted) {
        if (!r.error.empty()) item["error"] = r.error;
        if (r.outcome == FileOutcome::kFailed) {
          failures.push_back({{"path", inputs_[i].path}, {"error", r.error}});
        }
      } else {
        item.update(nlohmann::ordered_json{{"document_id", p.document_id()},
                                           {"content_hash", p.content_hash()},
                                           {"created", p.created()},
                                           {"unchanged", p.unchanged()},
                                           {"replaced_document_id", p.replaced_document_id()},
                                           {"reference_count", p.reference_count()},
                                           {"modality", p.modality()},
                                           {"format", p.format()},
                                           {"converted_from_latin1", r.converted},
                                           {"parts", p.parts()},
                                           {"atoms_created", p.atoms_created()},
                                           {"atoms_reused", p.atoms_reused()},
                                           {"bytes_received", p.bytes_received()},
                                           {"bytes_stored", p.bytes_stored()}});
      }
      results.push_back(std::move(item));
    }
    PrintJson(std::cout, {{"results", results},
                          {"files", t.files},
                          {"documents", t.created + t.reused + t.unchanged + t.replaced},
                          {"created", t.created},
                          {"reused", t.reused},
                          {"unchanged", t.unchanged},
                          {"replaced", t.replaced},
                          {"failed", t.failed},
                          {"not_attempted", t.not_attempted},
                          {"converted_from_latin1", t.converted},
                          {"failures", failures},
                          {"interrupted", t.interrupted},
                          {"stop_reason", t.stop_reason},
                          {"bytes", t.bytes},
                          {"seconds", t.seconds},
                          {"mb_per_s", mb_per_s},
                          {"atoms_created", t.atoms_created},
                          {"atoms_reused", t.atoms_reused},
                          {"bytes_received", t.bytes_received},
                          {"bytes_stored", t.bytes_stored}});
    return;
  }
  std::cout.flush();
  char rate[64];
  std::snprintf(rate, sizeof(rate), "%.2f s, %.1f MB/s", t.seconds, mb_per_s);
  std::cerr << "ingest-doc: " << t.files << " file(s): " << t.created + t.reused + t.replaced
            << " ingested (" << t.created << " new, " << t.reused << " reused, " << t.replaced
            << " replacing an older version), " << t.unchanged << " unchanged, " << t.failed
            << " failed, " << t.not_attempted << " not attempted";
  if (t.converted != 0) std::cerr << "; " << t.converted << " converted from Latin-1";
  std::cerr << "\n  " << t.bytes << " bytes in " << rate << "; atoms: " << t.atoms_created
            << " created, " << t.atoms_reused << " reused; " << t.bytes_stored << " of "
            << t.bytes_received << " bytes stored\n";
  if (!t.stop_reason.empty()) std::cerr << "  stopped early: " << t.stop_reason << "\n";
  if (t.failed != 0) {
    std::cerr << "failed (" << t.failed << "):\n";
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (results_[i].outcome == FileOutcome::kFailed) {
        std::cerr << "  " << inputs_[i].path << ": " << results_[i].error << "\n";
      }
    }
  }
}

}  // namespace hartonomous::cli
