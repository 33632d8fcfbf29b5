// DedupMatcher: applies a deduplication policy to an atom ingested with an
// embedding. Transport-free: no gRPC.
//
// Ingest (AtomEngine::Ingest) uses it in two steps:
//  1. Plan, on the caller's thread, before the write: resolves the named
//     policy (NotFound naming `policy` when absent, FailedPrecondition when
//     inactive), checks the embedding against its collection (NotFound when
//     the collection does not exist, InvalidArgument on a dimension
//     mismatch) and searches the committed embeddings for the nearest active
//     candidates: the most cosine-similar one (semantic threshold; the k
//     nearest by the collection's own metric, re-ranked by cosine similarity
//     computed exactly in double from the stored vectors) and the active
//     one nearest by projected distance (spatial threshold; the fine points
//     of the collection's current projection, EmbeddingEngine::
//     NearestByProjection).
//  2. Decide, inside the write transaction, when the content's SHA-256 is not
//     stored yet: the first candidate that meets its threshold (semantic,
//     then spatial) and is still an active atom in that transaction is the
//     match; otherwise the atom is stored as new.
// The metadata audit ("dedup" key) is built by AuditNew / AuditMatched; its
// format is in docs/api.md.
//
// Matching sees committed embeddings only: two near-duplicates ingested in
// the same group commit (or the same IngestAtoms stream) are both stored.
//
// Thread-safety: thread-safe (the engines it uses are); Decide and
// StoreEmbedding run on the writer thread inside its transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "base/status.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"

namespace hartonomous::engine {

class EmbeddingEngine;
class PolicyEngine;

// An embedding sent with an atom.
struct EmbeddingAttachment {
  std::string collection;
  std::vector<float> vector;
  std::string metadata;  // JSON object text or empty
};

struct DedupCandidate {
  uint64_t atom_id = 0;
  double value = 0;  // cosine similarity (semantic) or projected distance (spatial)
};

// The rules that can decide an ingest.
enum class DedupRule { kNone, kHash, kSemantic, kSpatial };
const char* DedupRuleName(DedupRule rule);

struct DedupDecision {
  std::string policy;  // empty: no policy named
  DedupRule rule = DedupRule::kNone;
  uint64_t matched_atom_id = 0;  // 0 for kNone
  std::optional<DedupCandidate> semantic_nearest;
  std::optional<DedupCandidate> spatial_nearest;
};

// What Plan found, before the write.
struct DedupPlan {
  storage::PolicyRecord policy;
  std::optional<DedupCandidate> semantic_nearest;
  std::optional<DedupCandidate> spatial_nearest;
};

class DedupMatcher {
 public:
  // Candidates asked of the index per search.
  static constexpr size_t kCandidates = 10;
  // The spatial search widens (x4) while every candidate found is inactive,
  // up to this many.
  static constexpr size_t kMaxSpatialCandidates = 640;

  // REQUIRES: every argument outlives the matcher.
  DedupMatcher(storage::Env& env, const storage::Tables& tables, PolicyEngine& policies,
               EmbeddingEngine& embeddings);
  DedupMatcher(const DedupMatcher&) = delete;
  DedupMatcher& operator=(const DedupMatcher&) = delete;

  // field: how errors name the atom ("" or "atoms[3]"). policy: REQUIRES
  // non-empty. embedding: may be absent (then only the hash decides).
  Result<DedupPlan> Plan(std::string_view field, const std::string& policy,
                         const EmbeddingAttachment* embedding);
  // Checks an embedding against its collection (exists, dimension), for an
  // ingest without a policy.
  Status CheckEmbedding(std::string_view field, const EmbeddingAttachment& embedding);

  // Inside the write: the atom that absorbs the content, or a decision with
  // rule kNone. REQUIRES: the content's hash is not stored in txn.
  Result<DedupDecision> Decide(storage::Txn& txn, const DedupPlan& plan) const;

  // Inside the write: stores a new atom's embedding (the index follows on
  // commit).
  Status StoreEmbedding(storage::WriteTxn& txn, std::string_view field, uint64_t atom_id,
                        const EmbeddingAttachment& embedding);

  // Cosine similarity: the three sums in float by the distance kernel in
  // use (index/kernels.h), the division in double; nullopt when either
  // vector is all zeros.
  // REQUIRES: a.size() == b.size().
  static std::optional<double> Cosine(const std::vector<float>& a, const std::vector<float>& b);
  // Whether a candidate meets the policy's threshold for rule
  // (similarity >= semantic threshold, distance <= spatial threshold).
  static bool Meets(const storage::PolicyRecord& policy, DedupRule rule, double value);

  // metadata with "dedup" set to the decision (for a new atom). REQUIRES:
  // metadata is empty or a JSON object.
  static std::string AuditNew(const std::string& metadata, const DedupDecision& decision);
  // metadata of the atom that absorbed content: "dedup.matches" + 1 and
  // "dedup.last" describing this match; other keys are kept.
  static std::string AuditMatched(const std::string& metadata, const DedupDecision& decision,
                                  const Sha256Digest& dropped_hash, int64_t at_us);

 private:
  Result<std::optional<DedupCandidate>> NearestSemantic(std::string_view field,
                                                        const EmbeddingAttachment& embedding);
  Result<std::optional<DedupCandidate>> NearestSpatial(const EmbeddingAttachment& embedding);

  storage::Env& env_;
  const storage::Tables& tables_;
  PolicyEngine& policies_;
  EmbeddingEngine& embeddings_;
};

}  // namespace hartonomous::engine
