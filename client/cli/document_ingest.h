// DocumentIngest: `hartonomous ingest-doc`, many files as documents, each
// its own IngestDocument stream, `jobs` of them in flight at once (so the
// server's group commit merges their commits).
//
// It keeps going past a bad file (unless fail_fast) and ends with a summary:
// per-file results in input order on stdout (one line each, flushed as soon
// as every earlier file is done), failures and the totals on stderr, or one
// JSON object on stdout with --json. Stop() (SIGINT/SIGTERM) cancels the
// streams in flight, whose documents are then not stored at all, and starts
// no more; every document already acknowledged is whole.
//
// Thread-safety: Run is called once, from one thread; Stop may be called
// from any thread at any time.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "hartonomous/client.h"
#include "input_files.h"
#include "progress.h"

namespace hartonomous::cli {

// Documents in flight when --jobs is not given. Bulk ingest waits on durable
// commits, not on the CPU: the server's group commit merges the documents in
// flight into one commit, so more of them than cores pays (docs/benchmarks.md,
// "Bulk document ingest": on an idle 2-core machine 16 ran 1.45x faster
// than 2, and 64 1.3x faster than 16, with 256 no faster than 64).
inline constexpr unsigned kDefaultJobs = 64;
// At most this many bytes of file content are held at once across the
// documents in flight; a larger file waits until it is alone.
inline constexpr uint64_t kMaxBytesInFlight = uint64_t{256} << 20;

struct DocumentIngestOptions {
  // Streams in flight at once, >= 1. Default: 1.
  unsigned jobs = 1;
  // Stop starting files after the first failure. Default: false.
  bool fail_fast = false;
  // Convert text that is not UTF-8 but reads as Latin-1 to UTF-8 (stored as
  // text); without it such a file is stored as binary. Default: false.
  bool convert_latin1 = false;
  // One JSON object on stdout instead of lines and a summary. Default: false.
  bool json = false;
  // Source URIs: `source_prefix` + the percent-encoded path when set, else
  // the file's file:// URI (InputFile::source_uri); none at all when
  // `no_source` (every ingest then adds a reference). Standard input has no
  // source. Default: file URIs.
  bool no_source = false;
  std::string source_prefix;
  // Modality, source type, metadata and options of every document; the
  // source URI and the content are set per file.
  v1::IngestDocumentRequest header;
};

// What happened to one file.
enum class FileOutcome {
  kNotAttempted,  // stopped (interrupt, --fail-fast, server unreachable) before it
  kCreated,       // a new document root
  kReused,        // an identical document existed; it gained a reference
  kUnchanged,     // its source already held this document; nothing written
  kReplaced,      // its source held another document, replaced
  kFailed,
};

struct FileResult {
  FileOutcome outcome = FileOutcome::kNotAttempted;
  std::string error;       // kFailed: why
  uint64_t bytes = 0;      // bytes read from the file (sent, when it succeeded)
  bool converted = false;  // Latin-1 converted to UTF-8
  v1::IngestDocumentResponse response;
};

struct DocumentIngestTotals {
  uint64_t files = 0, created = 0, reused = 0, unchanged = 0, replaced = 0, failed = 0,
           not_attempted = 0, converted = 0;
  uint64_t bytes = 0;  // of the files that succeeded
  uint64_t atoms_created = 0, atoms_reused = 0, bytes_received = 0, bytes_stored = 0;
  double seconds = 0;
  bool interrupted = false;
  std::string stop_reason;  // why the run stopped early, or empty
};

class DocumentIngest {
 public:
  DocumentIngest(Client& client, std::vector<InputFile> inputs, DocumentIngestOptions options);
  DocumentIngest(const DocumentIngest&) = delete;
  DocumentIngest& operator=(const DocumentIngest&) = delete;

  // Ingests every input, prints the results and the summary, returns the totals.
  DocumentIngestTotals Run() EXCLUDES(mu_);
  // Cancels the streams in flight and starts no more (interrupted = true).
  void Stop() EXCLUDES(mu_);

 private:
  void Work() EXCLUDES(mu_);
  FileResult Process(size_t index) EXCLUDES(mu_);
  void Finish(size_t index, FileResult result) EXCLUDES(mu_);
  void PrintReady() REQUIRES(mu_);
  void PrintSummary(const DocumentIngestTotals& totals) REQUIRES(mu_);
  std::string SourceUri(const InputFile& input) const;

  Client& client_;
  const std::vector<InputFile> inputs_;
  const DocumentIngestOptions options_;

  Mutex mu_;
  size_t next_ GUARDED_BY(mu_) = 0;     // the next input to start
  size_t printed_ GUARDED_BY(mu_) = 0;  // results printed so far, in order
  bool stopping_ GUARDED_BY(mu_) = false;
  bool interrupted_ GUARDED_BY(mu_) = false;
  std::string stop_reason_ GUARDED_BY(mu_);
  std::vector<FileResult> results_ GUARDED_BY(mu_);
  std::vector<bool> done_ GUARDED_BY(mu_);
  std::set<grpc::ClientContext*> in_flight_ GUARDED_BY(mu_);
  uint64_t files_done_ GUARDED_BY(mu_) = 0;
  uint64_t bytes_held_ GUARDED_BY(mu_) = 0;  // content read and not yet sent (kMaxBytesInFlight)
  CondVar bytes_released_;
  uint64_t bytes_sent_ GUARDED_BY(mu_) = 0;
  ProgressBar progress_ GUARDED_BY(mu_);
};

}  // namespace hartonomous::cli
