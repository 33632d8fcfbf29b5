// InferenceEngine: the inference log (the design document's
// InferenceRequest with its InferenceSteps), its analytics and the layers'
// cached activations. Transport-free: no gRPC.
//
// Logging (LogInferences): each inference is checked (CheckInference: field
// rules, messages name the field and the rule), its OpenTelemetry GenAI
// attributes mapped onto fields (gen_ai_attributes.h), and then, in one
// write request (one transaction, durable when the call returns, all or
// nothing): the row and its index entries, its input and output texts as
// content atoms (one reference each; identical texts are stored once), the
// aggregates analytics read (inference_aggregates.h), and the model's
// usage_count, last_used_us and average_inference_ms. An inference whose
// request_id is stored already is not logged again: its first id is
// returned and nothing is counted twice.
//
// Analytics (GetInferenceAnalytics) read only the aggregates, never rows:
// the window is widened to whole minutes and covered by hour buckets in its
// middle and minute buckets at its edges, so its cost depends on the
// window, not on the number of rows.
//
// Pruning (PruneInferences) deletes the rows older than a time. The rows
// live in segments (storage/tables/inference_table.h). A segment whose rows
// are all older is emptied whole: its rows are deleted for readers in time
// order, in background write requests (storage/write_batcher.h) that each
// subtract a bounded number of aggregate rows' worth of them from the
// aggregates and move the segment's hidden_before_us past them (planned from
// a read snapshot, so the writer only applies them); then the references of
// its texts are queued in "atom_pending_releases"
// (storage/tables/pending_release_table.h), one entry per text, in atom-id
// order and batches; the last batch empties the segment's tables at once.
// If the newest segment is all older, a new segment is started first.
// A segment with rows on both sides of the time has its older rows deleted
// one by one, in batches of at most kPruneBatchRows rows and about
// kPruneBatchTime of work, each subtracting its rows from the aggregates
// and queueing their texts. A batch ends early, after kPruneYieldAfter of
// work, when a write is queued, and that write joins the batch's commit.
// After every commit the aggregates equal a recomputation over the rows
// readers see. When the rows are gone, the prune releases the queue in
// atom-id order, each text once with all the references the prune gave up
// (batched and yielding like the rows). A prune first finishes what a
// crashed prune left: a segment half emptied, references queued. Prunes
// run one at a time, each on a thread of its own at the lowest CPU priority
// (base/low_priority_thread.h): reading the rows is most of its work, and
// the threads serving requests get the CPU first.
//
// Activations: a layer's cached activation by (layer_id, sha256 of the
// input); PutActivation and GetActivation keep the layer's
// avg_compute_time_ms and cache_hit_rate up to date in the same
// transaction. RemoveModelActivations is the model-deletion hook.
//
// Thread-safety: thread-safe. Reads run on the caller's thread in LMDB read
// transactions; writes on the writer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "server/engine/common/page_token.h"
#include "server/engine/common/response_budget.h"
#include "storage/lmdb_env.h"
#include "storage/records.pb.h"
#include "storage/schema.h"
#include "storage/tables/inference_table.h"
#include "storage/write_batcher.h"

namespace hartonomous::engine {

// Limits of an inference's fields (the rules of CheckInference).
inline constexpr size_t kMaxInferenceTextBytes = size_t{1} << 20;
inline constexpr size_t kMaxInferenceVectorDims = 65536;
inline constexpr size_t kMaxInferenceSteps = 1024;
inline constexpr size_t kMaxInferenceJsonBytes = size_t{64} << 10;
inline constexpr size_t kMaxInferenceTokenBytes = 64;  // task_type, step kind
inline constexpr size_t kMaxInferenceNameBytes = 256;  // request_id, provider, step name
inline constexpr size_t kMaxInferenceAttributes = 128;
inline constexpr size_t kMaxAttributeValueBytes = 4096;
inline constexpr size_t kMaxInferencesPerLog = 100000;
// Timestamps may lie at most this far past the server's clock.
inline constexpr int64_t kMaxFutureSkewUs = int64_t{24} * 3600 * 1000000;
// A prune batch: at most this many rows, and no more rows once its row
// work has taken kPruneBatchTime (so a batch holds writers up briefly
// however busy the machine is), or kPruneYieldAfter while a write waits
// (the write then joins the batch's commit; the prune still moves on
// however busy the writers are). The same bounds apply to the batches that
// release the queued text references.
inline constexpr uint32_t kPruneBatchRows = 2000;
inline constexpr std::chrono::microseconds kPruneBatchTime{4000};
inline constexpr std::chrono::microseconds kPruneYieldAfter{1500};
// A batch that deletes part of a segment being emptied writes at most this
// many aggregate rows and request-id deletions (a few milliseconds).
inline constexpr size_t kEmptyBatchWrites = 512;

// One inference to log. Times in microseconds since the Unix epoch.
struct InferenceInput {
  uint64_t model_id = 0;   // 0 = none (an ensemble) unless model_name names one
  std::string model_name;  // used when model_id is 0 (gen_ai.request.model)
  std::string task_type;
  std::optional<std::string> input_text;
  std::optional<std::string> output_text;
  std::vector<float> input_vector;
  std::optional<double> confidence;
  std::optional<double> temperature;
  std::optional<int64_t> start_us;
  std::optional<int64_t> end_us;
  std::optional<int64_t> duration_us;  // computed from end - start when absent
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> output_tokens;
  std::string metadata;  // JSON object text or empty
  std::vector<storage::InferenceStepRecord> steps;
  std::string request_id;
  std::string provider;
  std::string response_model;
  std::map<std::string, std::string> attributes;  // OpenTelemetry GenAI and others
};

// The field rules of one inference (field names under prefix, e.g.
// "inferences[3]."); maps the GenAI attributes onto fields and fills in
// what the server computes (start, end, duration). now_us: the server's clock.
Status CheckInference(std::string_view prefix, int64_t now_us, InferenceInput* input);

struct LoggedInference {
  uint64_t inference_id = 0;
  bool already_logged = false;  // the request_id was stored: nothing was written
};

// A stored inference with its texts.
struct InferenceView {
  storage::InferenceRecord record;
  std::optional<std::string> input_text;
  std::optional<std::string> output_text;
};

struct InferenceFilter {
  std::optional<uint64_t> model_id;  // set: that model's rows (0 = rows without a model)
  std::string task_type;             // non-empty: that task type's rows
  std::optional<int64_t> from_us;    // start_us >= from_us
  std::optional<int64_t> to_us;      // start_us < to_us
};

struct InferencePage {
  std::vector<InferenceView> inferences;
  std::string next_page_token;
};

enum class AnalyticsGroup { kModel, kTaskType };
enum class AnalyticsSeries { kNone, kMinute, kHour, kDay };
enum class AnalyticsColumn {
  kCount,
  kAvgDuration,
  kP50,
  kP95,
  kP99,
  kAvgConfidence,
  kInputTokens,
  kOutputTokens,
  kKey,  // the group's key (model id or task type)
};

struct AnalyticsQuery {
  std::optional<int64_t> from_us;  // default: to - 7 days
  std::optional<int64_t> to_us;    // default: now
  AnalyticsGroup group = AnalyticsGroup::kModel;
  AnalyticsSeries series = AnalyticsSeries::kNone;
  std::optional<uint64_t> model_id;  // set: only that model (0 = rows without one)
  std::string task_type;             // non-empty: only that task type
  AnalyticsColumn sort_by = AnalyticsColumn::kCount;
  bool descending = true;
};

struct AnalyticsRow {
  uint64_t model_id = 0;        // kModel
  std::string task_type;        // kTaskType
  int64_t bucket_start_us = 0;  // with a series
  uint64_t count = 0;
  double avg_duration_ms = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  uint64_t confidence_count = 0;
  double avg_confidence = 0;  // over rows with a confidence
  int64_t input_tokens = 0, output_tokens = 0;
};

struct Analytics {
  int64_t from_us = 0;  // the window used: [from_us, to_us), whole minutes
  int64_t to_us = 0;
  std::vector<AnalyticsRow> rows;
  uint64_t aggregate_rows_read = 0;
};

// Most series points of one answer.
inline constexpr int64_t kMaxSeriesBuckets = 20000;

struct PruneSummary {
  uint64_t inferences_deleted = 0;
  uint64_t batches = 0;
  uint64_t atoms_released = 0;
};

struct ActivationInput {
  uint64_t layer_id = 0;
  std::string input_hash;  // 32 bytes
  std::vector<uint64_t> shape;
  std::string dtype;
  std::string data;
  double compute_time_ms = 0;
};

struct ActivationLookup {
  std::optional<storage::CachedActivationRecord> activation;  // nullopt = a miss
  storage::ModelLayerRecord layer;                            // after the lookup's statistics
};

struct InferenceOptions {
  storage::SegmentPolicy segments;
  // Testing only: a prune returns Aborted once this many of its write
  // steps have committed, leaving what a crash there would. 0 = never.
  uint64_t testing_prune_stop_after = 0;
};

class InferenceEngine {
 public:
  // REQUIRES: env, tables and writer outlive the engine.
  InferenceEngine(storage::Env& env, const storage::Tables& tables, storage::WriteBatcher& writer,
                  std::string page_token_key, InferenceOptions options = {});
  InferenceEngine(const InferenceEngine&) = delete;
  InferenceEngine& operator=(const InferenceEngine&) = delete;

  // Logs the inferences in one transaction (see the file comment).
  // REQUIRES: each passed CheckInference. NotFound naming
  // "<field>model_id" / "<field>model_name" for an unknown model (fields:
  // "" for one inference, "inferences[i]." for more); nothing is stored then.
  Result<std::vector<LoggedInference>> LogInferences(std::vector<InferenceInput> inferences,
                                                     std::string_view field_prefix);
  // LogInferences without waiting for the commit: the rows are built on the
  // caller's thread, the write is queued with the writer
  // (WriteBatcher::WriteAsync), and done receives LogInferences' result on
  // the writer thread after the commit. done must be short and must not
  // block (it delays the writer's next group).
  using LogDone = std::function<void(Result<std::vector<LoggedInference>>)>;
  void LogInferencesAsync(std::vector<InferenceInput> inferences, std::string_view field_prefix,
                          LogDone done);
  // NotFound naming inference_id.
  Result<InferenceView> GetInference(uint64_t inference_id);
  // Newest first. page_size: REQUIRES 1..1000.
  Result<InferencePage> ListInferences(const InferenceFilter& filter, bool include_text,
                                       int page_size, std::string_view page_token,
                                       ResponseBudget* budget = nullptr);
  // InvalidArgument naming from/to for an empty window or a series of more
  // than kMaxSeriesBuckets points.
  Result<Analytics> GetInferenceAnalytics(const AnalyticsQuery& query);
  // Deletes the rows with start_us < before_us (see the file comment).
  Result<PruneSummary> PruneInferences(int64_t before_us);

  // NotFound naming layer_id; InvalidArgument naming shape or dtype when
  // the layer has them and they differ, or data when its size does not
  // fit shape and dtype.
  Result<storage::ModelLayerRecord> PutActivation(const ActivationInput& input);
  // NotFound naming layer_id. REQUIRES: input_hash is 32 bytes. A lookup
  // writes (hit counts and statistics), so it goes through the writer.
  Result<ActivationLookup> GetActivation(uint64_t layer_id, std::string_view input_hash);
  // PutActivation and GetActivation without waiting for the commit: done
  // receives their result on the writer thread after the commit (short,
  // must not block).
  using PutActivationDone = std::function<void(Result<storage::ModelLayerRecord>)>;
  void PutActivationAsync(ActivationInput input, PutActivationDone done);
  using GetActivationDone = std::function<void(Result<ActivationLookup>)>;
  void GetActivationAsync(uint64_t layer_id, std::string input_hash, GetActivationDone done);
  // The model-deletion hook: removes the layers' activations and statistics.
  Result<uint64_t> RemoveModelActivations(storage::WriteTxn& txn,
                                          const std::vector<storage::ModelLayerRecord>& layers);

 private:
  struct LogState;
  // The caller's-thread part of a log: texts hashed once, rows built, their
  // aggregate changes; returns the bytes the write declares.
  size_t PrepareLog(LogState& state);
  // The write function of a log (re-runnable: starts the results over).
  Status WriteLog(storage::WriteTxn& txn, LogState& state, std::vector<LoggedInference>& results);
  Result<InferenceView> View(storage::Txn& txn, storage::InferenceRecord record,
                             bool include_text) const;
  // PruneInferences on the calling thread.
  Result<PruneSummary> Prune(int64_t before_us) EXCLUDES(prune_mu_);
  // Releases the references queued in "atom_pending_releases", in atom-id
  // order, in background batches like the prune's; returns their number.
  Result<uint64_t> ReleaseQueuedTexts() REQUIRES(prune_mu_);
  // Counts a committed write step of a prune: Aborted at
  // options_.testing_prune_stop_after.
  Status PruneStep() REQUIRES(prune_mu_);
  // Empties the segment numbered `segment` whole (see the file comment);
  // adds what it did to *summary.
  Status EmptySegment(uint64_t segment, PruneSummary* summary) REQUIRES(prune_mu_);
  // Deletes the rows of segment `segment` with start_us < before_us one by one.
  Status PruneRows(uint64_t segment, int64_t before_us, PruneSummary* summary) REQUIRES(prune_mu_);
  // Whether a prune batch that has done `done` items since `started` takes
  // no more (see kPruneYieldAfter, kPruneBatchTime).
  bool PruneBatchEnds(size_t done, std::chrono::steady_clock::time_point started) const;

  storage::Env& env_;
  const storage::Tables tables_;
  storage::WriteBatcher& writer_;
  PageTokenCodec tokens_;
  const InferenceOptions options_;
  Mutex prune_mu_;  // one prune at a time
  // Write steps of the running prune (options_.testing_prune_stop_after).
  uint64_t prune_steps_ GUARDED_BY(prune_mu_) = 0;
};

}  // namespace hartonomous::engine
