// DocumentEngine: documents decomposed into atoms and rebuilt from them.
//
// IngestDocument decodes and decomposes on the caller's thread (decompose
// errors store nothing), then writes every part atom, the root atom and the
// ordered 'contains' edges in ONE WriteBatcher request: the document is
// committed whole or not at all.
//
// A document is a root atom (subtype 'document', modality of the document)
// whose content is a canonical manifest:
//   "hartonomous-document/1\n" <layout info JSON> "\n" <32-byte SHA-256 of each top-level part>...
// so identical documents (same bytes, same options) are one atom too. The
// root 'contains' its parts in order (ordinal 0, 1, ...); text paragraphs
// are composite atoms ("hartonomous-composite/1 paragraph\n" + 32-byte
// hashes) that 'contain' their sentences. Each 'contains' edge holds one reference on its
// target; a composite that already exists (and is active) gets one more
// reference and its edges are not written again.
//
// Thread-safety: thread-safe, as AtomEngine.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/json_limits.h"
#include "base/sha256.h"
#include "base/status.h"
#include "server/engine/documents/decompose/decomposition.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/atom_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

// The root atom's metadata holds the user's metadata one level down (under
// "user_metadata"), so the user's JSON may nest one level less than
// kMaxJsonDepth and the stored metadata stays within it.
inline constexpr size_t kMaxDocumentMetadataDepth = kMaxJsonDepth - 1;

struct DocumentInput {
  std::string content;
  std::string modality;  // empty = from the content
  std::string source_uri;
  std::string source_type;
  std::string metadata;  // user JSON object text, or empty; nested <= kMaxDocumentMetadataDepth
  DecomposeOptions options;
};

struct DocumentSummary {
  uint64_t document_id = 0;
  Sha256Digest content_hash{};  // of the manifest
  bool created = false;         // false: an identical document existed
  int64_t reference_count = 0;  // of the root after this ingest
  std::string modality;
  std::string format;
  uint64_t parts = 0;          // top-level parts
  uint64_t atoms_created = 0;  // root and parts, counted per occurrence
  uint64_t atoms_reused = 0;
  uint64_t bytes_received = 0;        // document size
  uint64_t bytes_stored = 0;          // content bytes newly stored (parts + manifests)
  bool unchanged = false;             // the source already held this document
  uint64_t replaced_document_id = 0;  // the source's previous document, or 0
};

struct DocumentContent {
  storage::AtomRecord root;
  std::string format;
  nlohmann::json info;
  std::string media_type;
  bool original = false;  // data is the original file (keep_original)
  std::string data;
};

struct DocumentRelease {
  storage::AtomRecord root;
  uint64_t atoms_deactivated = 0;
  uint64_t sources_removed = 0;
};

class DocumentEngine {
 public:
  // REQUIRES: env, tables and writer outlive the engine.
  DocumentEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer);
  DocumentEngine(const DocumentEngine&) = delete;
  DocumentEngine& operator=(const DocumentEngine&) = delete;

  // InvalidArgument (naming content or options) when the content does not
  // decode as its format; nothing is stored then. A source_uri gives the
  // document an identity (DocumentSources, document_sources.h): the same
  // document again is a no-op, another one replaces it.
  Result<DocumentSummary> Ingest(DocumentInput input);
  // Ingest without waiting for the commit: decodes, decomposes, hashes and
  // compresses on the caller's thread, then done receives the result on the
  // writer thread after the commit (short, must not block), or at once
  // when the content is refused.
  using IngestDone = std::function<void(Result<DocumentSummary>)>;
  void IngestAsync(DocumentInput input, IngestDone done);

  // Rebuilds the document. decoded: for PNG/JPEG stored with keep_original,
  // return the decoded pixels as PNG instead of the original file.
  // NotFound / FailedPrecondition (not a document, deleted) name document_id;
  // DataLoss when the graph does not match the manifest.
  Result<DocumentContent> Get(uint64_t document_id, bool decoded);

  // Drops one reference of the document root, named by document_id or by
  // the source that holds it (source_uri; 0 / empty = not given); at zero
  // the root becomes inactive and releases its parts (transitively). Source
  // rows follow DocumentSources::Resolve and Trim.
  Result<DocumentRelease> Delete(uint64_t document_id, std::string_view source_uri = {});
  // Delete without waiting for the commit: done receives its result on the
  // writer thread after the commit (short, must not block).
  using DeleteDone = std::function<void(Result<DocumentRelease>)>;
  void DeleteAsync(uint64_t document_id, std::string source_uri, DeleteDone done);

  // For a composite written by IngestDocument (subtype 'document' or
  // 'paragraph', content starting with its magic): the size of its header,
  // the content before the 32-byte child hashes. nullopt for anything else;
  // the content is read (read_content) only for those subtypes. (The schema
  // migration tells composites apart with it: AtomTable::HeaderSizeFn.)
  static Result<std::optional<size_t>> ManifestHeaderSize(
      const storage::AtomRecord& atom, const storage::AtomTable::ContentReader& read_content);

  static constexpr std::string_view kManifestMagic = "hartonomous-document/1\n";
  static constexpr std::string_view kCompositeMagic = "hartonomous-composite/1 ";

 private:
  struct IngestState;
  // IngestAsync's work before the write; the bytes it will write.
  Result<size_t> Prepare(IngestState& state);
  Status WriteIngest(storage::WriteTxn& txn, const IngestState& state, DocumentSummary& summary);

  storage::Env& env_;
  const storage::Tables& tables_;
  storage::WriteBatcher& writer_;
};

}  // namespace hartonomous::engine
