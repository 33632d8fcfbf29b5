#include "server/engine/inference/inference_engine.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "base/clock.h"
#include "base/json_limits.h"
#include "base/low_priority_thread.h"
#include "base/sha256.h"
#include "server/engine/common/await_result.h"
#include "server/engine/documents/decompose/text_decomposer.h"
#include "server/engine/inference/gen_ai_attributes.h"
#include "server/engine/inference/inference_aggregates.h"
#include "storage/key_codec.h"
#include "storage/sequence.h"
#include "storage/tables/activation_table.h"
#include "storage/tables/atom_table.h"
#include "storage/tables/inference_aggregate_table.h"
#include "storage/tables/inference_table.h"
#include "storage/tables/model_table.h"
#include "storage/tables/pending_release_table.h"
#include "storage/tables/relation_table.h"

namespace hartonomous::engine {
namespace {

// A text of a log request, kept once however many rows hold it.
struct LogText {
  Sha256Digest hash;
  const std::string* content = nullptr;
  uint64_t references = 0;  // per write attempt: the logged rows that hold it
  uint64_t atom_id = 0;
};
struct DigestHash {
  size_t operator()(const Sha256Digest& digest) const {
    size_t h;
    std::memcpy(&h, digest.data(), sizeof(h));
    return h;
  }
};
constexpr size_t kNoText = std::numeric_limits<size_t>::max();

using storage::AggregateGranularity;
using storage::InferenceRecord;

Status Invalid(std::string_view prefix, std::string_view field, const std::string& rule) {
  return Status::InvalidArgument(std::string(prefix) + std::string(field) + ": " + rule);
}

bool IsToken(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == ':' || c == '/';
  });
}

Status CheckText(std::string_view prefix, std::string_view field, std::string_view text,
                 size_t max_bytes) {
  if (text.size() > max_bytes) {
    return Invalid(
        prefix, field,
        "at most " + std::to_string(max_bytes) + " bytes, got " + std::to_string(text.size()));
  }
  const size_t bad = FindInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    return Invalid(prefix, field,
                   "must be UTF-8 (invalid byte at offset " + std::to_string(bad) + ")");
  }
  return Status::Ok();
}

Status CheckTime(std::string_view prefix, std::string_view field, int64_t us, int64_t now_us) {
  if (us < 0) return Invalid(prefix, field, "must not be before 1970-01-01");
  if (us > now_us + kMaxFutureSkewUs) {
    return Invalid(prefix, field, "must not be more than 24 hours past the server's clock");
  }
  return Status::Ok();
}

Status CheckNonNegative(std::string_view prefix, std::string_view field,
                        const std::optional<int64_t>& value) {
  if (value && *value < 0) {
    return Invalid(prefix, field, "must not be negative, got " + std::to_string(*value));
  }
  return Status::Ok();
}

Status CheckSteps(std::string_view prefix, std::vector<storage::InferenceStepRecord>* steps) {
  if (steps->size() > kMaxInferenceSteps) {
    return Invalid(
        prefix, "steps",
        "at most " + std::to_string(kMaxInferenceSteps) + ", got " + std::to_string(steps->size()));
  }
  std::set<uint32_t> seen;
  for (size_t i = 0; i < steps->size(); ++i) {
    const auto& step = (*steps)[i];
    const std::string field = std::string(prefix) + "steps[" + std::to_string(i) + "].";
    if (!seen.insert(step.step_index()).second) {
      return Status::InvalidArgument(field + "step_index: " + std::to_string(step.step_index()) +
                                     " is given twice");
    }
    if (step.duration_us() < 0) {
      return Status::InvalidArgument(field + "duration_ms: must not be negative");
    }
    HT_RETURN_IF_ERROR(CheckText(field, "step_name", step.step_name(), kMaxInferenceNameBytes));
    if (step.step_kind().size() > kMaxInferenceTokenBytes || !IsToken(step.step_kind())) {
      return Status::InvalidArgument(field + "step_kind: at most " +
                                     std::to_string(kMaxInferenceTokenBytes) +
                                     " characters of [A-Za-z0-9_.:/-]");
    }
    HT_RETURN_IF_ERROR(
        ParseJsonObject(field + "metadata", step.metadata(), kMaxInferenceJsonBytes).status());
  }
  std::sort(steps->begin(), steps->end(),
            [](const auto& a, const auto& b) { return a.step_index() < b.step_index(); });
  return Status::Ok();
}

}  // namespace

Status CheckInference(std::string_view prefix, int64_t now_us, InferenceInput* in) {
  if (in->attributes.size() > kMaxInferenceAttributes) {
    return Invalid(prefix, "attributes",
                   "at most " + std::to_string(kMaxInferenceAttributes) + " entries, got " +
                       std::to_string(in->attributes.size()));
  }
  for (const auto& [key, value] : in->attributes) {
    HT_RETURN_IF_ERROR(CheckText(prefix, "attributes key", key, kMaxInferenceNameBytes));
    HT_RETURN_IF_ERROR(
        CheckText(prefix, "attributes[" + key + "]", value, kMaxAttributeValueBytes));
  }
  HT_RETURN_IF_ERROR(ApplyGenAiAttributes(prefix, in));
  if (in->task_type.size() > kMaxInferenceTokenBytes || !IsToken(in->task_type)) {
    return Invalid(
        prefix, "task_type",
        "at most " + std::to_string(kMaxInferenceTokenBytes) + " characters of [A-Za-z0-9_.:/-]");
  }
  HT_RETURN_IF_ERROR(CheckText(prefix, "model_name", in->model_name, kMaxInferenceNameBytes));
  HT_RETURN_IF_ERROR(CheckText(prefix, "request_id", in->request_id, kMaxInferenceNameBytes));
  HT_RETURN_IF_ERROR(CheckText(prefix, "provider", in->provider, kMaxInferenceNameBytes));
  HT_RETURN_IF_ERROR(
      CheckText(prefix, "response_model", in->response_model, kMaxInferenceNameBytes));
  if (in->input_text) {
    HT_RETURN_IF_ERROR(CheckText(prefix, "input_text", *in->input_text, kMaxInferenceTextBytes));
  }
  if (in->output_text) {
    HT_RETURN_IF_ERROR(CheckText(prefix, "output_text", *in->output_text, kMaxInferenceTextBytes));
  }
  if (in->input_vector.size() > kMaxInferenceVectorDims) {
    return Invalid(prefix, "input_vector",
                   "at most " + std::to_string(kMaxInferenceVectorDims) + " dimensions");
  }
  for (size_t i = 0; i < in->input_vector.size(); ++i) {
    if (!std::isfinite(in->input_vector[i])) {
      return Invalid(prefix, "input_vector[" + std::to_string(i) + "]", "must be finite");
    }
  }
  if (in->confidence &&
      !(std::isfinite(*in->confidence) && *in->confidence >= 0 && *in->confidence <= 1)) {
    return Invalid(prefix, "confidence", "must be a finite number in [0, 1]");
  }
  if (in->temperature && !(std::isfinite(*in->temperature) && *in->temperature >= 0)) {
    return Invalid(prefix, "temperature", "must be a finite number >= 0");
  }
  HT_RETURN_IF_ERROR(CheckNonNegative(prefix, "input_tokens", in->input_tokens));
  HT_RETURN_IF_ERROR(CheckNonNegative(prefix, "output_tokens", in->output_tokens));
  HT_RETURN_IF_ERROR(CheckNonNegative(prefix, "duration_ms", in->duration_us));
  if (in->start_us) HT_RETURN_IF_ERROR(CheckTime(prefix, "start_time", *in->start_us, now_us));
  if (in->end_us) HT_RETURN_IF_ERROR(CheckTime(prefix, "end_time", *in->end_us, now_us));
  if (in->start_us && in->end_us && *in->end_us < *in->start_us) {
    return Invalid(prefix, "end_time", "must not be before start_time");
  }
  if (!in->duration_us) {
    if (!in->start_us || !in->end_us) {
      return Invalid(prefix, "duration_ms", "required unless start_time and end_time are given");
    }
    in->duration_us = *in->end_us - *in->start_us;
  }
  if (!in->start_us) {
    in->start_us = in->end_us ? std::max<int64_t>(0, *in->end_us - *in->duration_us) : now_us;
  }
  if (!in->end_us) in->end_us = *in->start_us + *in->duration_us;
  HT_RETURN_IF_ERROR(CheckTime(prefix, "end_time", *in->end_us, now_us));
  HT_RETURN_IF_ERROR(
      ParseJsonObject(std::string(prefix) + "metadata", in->metadata, kMaxInferenceJsonBytes)
          .status());
  return CheckSteps(prefix, &in->steps);
}

InferenceEngine::InferenceEngine(storage::Env& env, const storage::Tables& tables,
                                 storage::WriteBatcher& writer, std::string page_token_key,
                                 InferenceOptions options)
    : env_(env),
      tables_(tables),
      writer_(writer),
      tokens_(std::move(page_token_key)),
      options_(options) {}

Result<std::vector<LoggedInference>> InferenceEngine::LogInferences(
    std::vector<InferenceInput> inferences, std::string_view field_prefix) {
  return AwaitResult<std::vector<LoggedInference>>([&](LogDone done) {
    LogInferencesAsync(std::move(inferences), field_prefix, std::move(done));
  });
}

// What a log keeps from its preparation to its completion.
struct InferenceEngine::LogState {
  std::vector<InferenceInput> inferences;
  std::string field_prefix;
  int64_t now = 0;
  std::vector<LogText> texts;                    // each text once; contents point into inferences
  std::vector<std::array<size_t, 2>> row_texts;  // input, output: indexes into texts
  std::vector<InferenceRecord> records;
  bool by_name = false;  // a row names its model: its id is known only in the writer
  AggregateChanges all_rows;
};

void InferenceEngine::LogInferencesAsync(std::vector<InferenceInput> inferences,
                                         std::string_view field_prefix, LogDone done) {
  auto state = std::make_shared<LogState>();
  state->inferences = std::move(inferences);
  state->field_prefix = std::string(field_prefix);
  state->now = NowMicros();
  const size_t bytes = PrepareLog(*state);
  const size_t n = state->inferences.size();
  WriteThen<std::vector<LoggedInference>>(
      writer_,
      [this, state](storage::WriteTxn& txn, std::vector<LoggedInference>& results) {
        return WriteLog(txn, *state, results);
      },
      std::move(done), bytes, n);
}

size_t InferenceEngine::PrepareLog(LogState& state) {
  // Off the writer thread: the texts hashed, a text repeated in the request
  // kept once (the writer takes its references with one update), the rows
  // built up to their ids, and their aggregate changes.
  std::vector<InferenceInput>& inferences = state.inferences;
  const size_t n = inferences.size();
  const int64_t now = state.now;
  std::vector<LogText>& texts = state.texts;
  std::unordered_map<Sha256Digest, size_t, DigestHash> text_of_hash;
  auto text_index = [&](const std::string& content) {
    const Sha256Digest hash = Sha256(content);
    auto [it, fresh] = text_of_hash.try_emplace(hash, texts.size());
    if (fresh) texts.push_back(LogText{hash, &content});
    return it->second;
  };
  std::vector<std::array<size_t, 2>>& row_texts = state.row_texts;
  row_texts.assign(n, {kNoText, kNoText});
  std::vector<InferenceRecord>& records = state.records;
  records.resize(n);
  bool& by_name = state.by_name;
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    InferenceInput& in = inferences[i];
    InferenceRecord& record = records[i];
    record.set_model_id(in.model_id);
    if (in.model_id == 0 && !in.model_name.empty()) by_name = true;
    record.set_task_type(std::move(in.task_type));
    if (in.input_text) {
      row_texts[i][0] = text_index(*in.input_text);
      record.set_input_bytes(in.input_text->size());
    }
    if (in.output_text) {
      row_texts[i][1] = text_index(*in.output_text);
      record.set_output_bytes(in.output_text->size());
    }
    *record.mutable_input_vector() = {in.input_vector.begin(), in.input_vector.end()};
    if (in.confidence) {
      record.set_has_confidence(true);
      record.set_confidence(*in.confidence);
    }
    record.set_start_us(*in.start_us);
    record.set_end_us(*in.end_us);
    record.set_duration_us(*in.duration_us);
    record.set_input_tokens(in.input_tokens.value_or(0));
    record.set_output_tokens(in.output_tokens.value_or(0));
    if (in.temperature) {
      record.set_has_temperature(true);
      record.set_temperature(*in.temperature);
    }
    record.set_metadata(std::move(in.metadata));
    for (auto& step : in.steps) *record.add_steps() = std::move(step);
    record.set_request_id(std::move(in.request_id));
    record.set_provider(std::move(in.provider));
    record.set_response_model(std::move(in.response_model));
    record.mutable_attributes()->insert(in.attributes.begin(), in.attributes.end());
    record.set_logged_at_us(now);
    bytes += 512 + (in.input_text ? in.input_text->size() : 0) +
             (in.output_text ? in.output_text->size() : 0) + in.input_vector.size() * 4;
  }
  // The aggregate changes of every row, used as they are unless the writer
  // skips a row (its request_id is stored) or resolves a model name.
  if (!by_name) {
    for (const InferenceRecord& record : records) state.all_rows.Add(record, +1);
  }
  return bytes;
}

Status InferenceEngine::WriteLog(storage::WriteTxn& txn, LogState& state,
                                 std::vector<LoggedInference>& results) {
  const std::vector<InferenceInput>& inferences = state.inferences;
  const size_t n = inferences.size();
  const int64_t now = state.now;
  std::vector<LogText>& texts = state.texts;
  const std::vector<std::array<size_t, 2>>& row_texts = state.row_texts;
  std::vector<InferenceRecord>& records = state.records;
  const bool by_name = state.by_name;
  const AggregateChanges& all_rows = state.all_rows;
  const std::string_view field_prefix = state.field_prefix;
  auto field = [&](size_t i) {
    return field_prefix.empty() ? std::string()
                                : std::string(field_prefix) + "[" + std::to_string(i) + "].";
  };
  results.assign(n, LoggedInference{});
  storage::AtomTable atoms(tables_);
  storage::Sequence atom_ids(txn, tables_.sequences, "atom_id");
  storage::Sequence inference_ids(txn, tables_.sequences, storage::kInferenceIdSequence);
  HT_ASSIGN_OR_RETURN(storage::InferenceTable rows, storage::InferenceTable::Open(txn, tables_));
  const storage::ModelTable models(tables_);
  std::map<uint64_t, storage::ModelRecord> used;  // models whose usage changed
  // Which rows are logged: not one whose request_id is stored, or given
  // by an earlier row of this request (it gets that row's id).
  std::vector<size_t> same_as(n, kNoText);
  std::unordered_map<std::string_view, size_t> request_ids;
  bool skipped = false;
  for (LogText& text : texts) text.references = 0;
  for (size_t i = 0; i < n; ++i) {
    InferenceRecord& record = records[i];
    const std::string& request_id = record.request_id();
    if (!request_id.empty()) {
      HT_ASSIGN_OR_RETURN(std::optional<uint64_t> logged, rows.FindRequestId(txn, request_id));
      if (logged) {
        results[i] = LoggedInference{*logged, true};
        skipped = true;
        continue;
      }
      auto [earlier, fresh] = request_ids.try_emplace(request_id, i);
      if (!fresh) {
        same_as[i] = earlier->second;
        skipped = true;
        continue;
      }
    }
    const InferenceInput& in = inferences[i];
    uint64_t model_id = in.model_id;
    if (model_id == 0 && !in.model_name.empty()) {
      HT_ASSIGN_OR_RETURN(std::optional<uint64_t> id, models.FindId(txn, in.model_name));
      if (!id) {
        return Status::NotFound(field(i) + "model_name: no model named '" + in.model_name + "'");
      }
      model_id = *id;
    }
    if (model_id != 0 && used.count(model_id) == 0) {
      HT_ASSIGN_OR_RETURN(std::optional<storage::ModelRecord> model, models.Find(txn, model_id));
      if (!model) {
        return Status::NotFound(field(i) + "model_id: no model " + std::to_string(model_id));
      }
      used.emplace(model_id, std::move(*model));
    }
    record.set_model_id(model_id);
    for (size_t t : row_texts[i]) {
      if (t != kNoText) ++texts[t].references;
    }
  }
  // Each text once: its references with one update, or a new atom.
  for (LogText& text : texts) {
    if (text.references == 0) continue;
    HT_ASSIGN_OR_RETURN(std::optional<storage::AtomRecord> found,
                        atoms.FindRecordByHash(txn, text.hash));
    if (found) {
      HT_RETURN_IF_ERROR(
          storage::AcquireReferences(txn, atoms, found->atom_id(), text.references, now, &*found));
      text.atom_id = found->atom_id();
      continue;
    }
    HT_ASSIGN_OR_RETURN(text.atom_id, atom_ids.Next());
    storage::AtomRecord atom;
    atom.set_atom_id(text.atom_id);
    atom.set_content_hash(
        std::string(reinterpret_cast<const char*>(text.hash.data()), text.hash.size()));
    atom.set_modality("text");
    atom.set_subtype("inference_text");
    HT_RETURN_IF_ERROR(atoms.InsertNew(txn, &atom, *text.content, now, nullptr, text.references));
  }
  std::optional<AggregateChanges> own;  // when all_rows does not apply
  if (by_name || skipped) own.emplace();
  for (size_t i = 0; i < n; ++i) {
    if (results[i].already_logged || same_as[i] != kNoText) continue;
    InferenceRecord& record = records[i];
    const auto& [input, output] = row_texts[i];
    record.set_input_atom_id(input == kNoText ? 0 : texts[input].atom_id);
    record.set_output_atom_id(output == kNoText ? 0 : texts[output].atom_id);
    HT_ASSIGN_OR_RETURN(uint64_t id, rows.Insert(txn, inference_ids, &record, options_.segments));
    if (own) own->Add(record, +1);
    if (const uint64_t model_id = record.model_id(); model_id != 0) {
      storage::ModelRecord& model = used[model_id];
      const double count = static_cast<double>(model.usage_count());
      model.set_average_inference_ms(
          (model.average_inference_ms() * count + DurationMs(record.duration_us())) / (count + 1));
      model.set_usage_count(model.usage_count() + 1);
      model.set_last_used_us(std::max(model.last_used_us(), record.end_us()));
    }
    results[i] = LoggedInference{id, false};
  }
  for (size_t i = 0; i < n; ++i) {
    if (same_as[i] != kNoText) results[i] = LoggedInference{results[same_as[i]].inference_id, true};
  }
  HT_RETURN_IF_ERROR(atom_ids.Flush());
  HT_RETURN_IF_ERROR(inference_ids.Flush());
  for (const auto& [id, model] : used) {
    HT_RETURN_IF_ERROR(models.records().Put(txn, id, model));
  }
  HT_RETURN_IF_ERROR((own ? *own : all_rows).Apply(txn, storage::InferenceAggregateTable(tables_)));
  return atoms.FlushCounters(txn);
}

Result<InferenceView> InferenceEngine::View(storage::Txn& txn, InferenceRecord record,
                                            bool include_text) const {
  InferenceView view;
  if (include_text) {
    storage::AtomTable atoms(tables_);
    auto read = [&](uint64_t atom_id, std::optional<std::string>* out) -> Status {
      if (atom_id == 0) return Status::Ok();
      HT_ASSIGN_OR_RETURN(std::optional<storage::AtomRecord> atom, atoms.Get(txn, atom_id));
      if (!atom) {
        return Status::DataLoss("inference " + std::to_string(record.inference_id()) +
                                ": text atom " + std::to_string(atom_id) + " is missing");
      }
      out->emplace();
      return atoms.ReadContent(txn, *atom, &**out);
    };
    HT_RETURN_IF_ERROR(read(record.input_atom_id(), &view.input_text));
    HT_RETURN_IF_ERROR(read(record.output_atom_id(), &view.output_text));
  }
  view.record = std::move(record);
  return view;
}

Result<InferenceView> InferenceEngine::GetInference(uint64_t inference_id) {
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(const storage::InferenceTable rows,
                      storage::InferenceTable::Open(txn, tables_));
  HT_ASSIGN_OR_RETURN(std::optional<InferenceRecord> record, rows.Find(txn, inference_id));
  if (!record) {
    return Status::NotFound("inference_id: no inference " + std::to_string(inference_id));
  }
  return View(txn, std::move(*record), true);
}

Result<InferencePage> InferenceEngine::ListInferences(const InferenceFilter& filter,
                                                      bool include_text, int page_size,
                                                      std::string_view page_token,
                                                      ResponseBudget* budget) {
  const std::string model = filter.model_id ? std::to_string(*filter.model_id) : "-";
  const std::string from = filter.from_us ? std::to_string(*filter.from_us) : "-";
  const std::string to = filter.to_us ? std::to_string(*filter.to_us) : "-";
  const uint64_t fingerprint =
      PageTokenCodec::Fingerprint({"inferences", model, filter.task_type, from, to});
  std::string after;
  if (!page_token.empty()) {
    HT_ASSIGN_OR_RETURN(after, tokens_.DecodeBytes(page_token, fingerprint));
  }
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  HT_ASSIGN_OR_RETURN(const storage::InferenceTable rows,
                      storage::InferenceTable::Open(txn, tables_));
  storage::InferenceIndex index = storage::InferenceIndex::kTime;
  std::string value;
  if (filter.model_id) {
    index = storage::InferenceIndex::kModel;
    value = storage::Be64Key(*filter.model_id);
  } else if (!filter.task_type.empty()) {
    index = storage::InferenceIndex::kTask;
    value = filter.task_type;
  }
  const bool filter_task = filter.model_id && !filter.task_type.empty();
  const int64_t newest = filter.to_us ? *filter.to_us - 1 : std::numeric_limits<int64_t>::max();
  const int64_t oldest = filter.from_us.value_or(0);
  InferencePage page;
  std::string last;
  bool more = false;
  Status status = Status::Ok();
  HT_RETURN_IF_ERROR(rows.ScanNewestFirst(
      txn, index, value, newest, oldest, after, [&](std::string_view position, uint64_t id) {
        if (page.inferences.size() == static_cast<size_t>(page_size)) {
          more = true;
          return false;
        }
        auto record = rows.Find(txn, id);
        if (!record.ok() || !*record) {
          status = record.ok()
                       ? Status::DataLoss("inference index entry without row " + std::to_string(id))
                       : record.status();
          return false;
        }
        if (filter_task && (*record)->task_type() != filter.task_type) {
          last = std::string(position);
          return true;
        }
        auto view = View(txn, std::move(**record), include_text);
        if (!view.ok()) {
          status = view.status();
          return false;
        }
        const size_t bytes = view->record.ByteSizeLong() + 64 +
                             (view->input_text ? view->input_text->size() : 0) +
                             (view->output_text ? view->output_text->size() : 0);
        if (budget != nullptr && !budget->TryChargeItem(bytes)) {
          if (page.inferences.empty()) {
            status = budget->Exceeded("inference " + std::to_string(id) + " alone is larger");
            return false;
          }
          more = true;
          return false;
        }
        page.inferences.push_back(std::move(*view));
        last = std::string(position);
        return true;
      }));
  HT_RETURN_IF_ERROR(status);
  if (more) page.next_page_token = tokens_.EncodeBytes(last, fingerprint);
  return page;
}

Result<Analytics> InferenceEngine::GetInferenceAnalytics(const AnalyticsQuery& query) {
  const int64_t minute = storage::kMinuteUs, hour = storage::kHourUs;
  Analytics out;
  const int64_t to = query.to_us.value_or(NowMicros());
  out.to_us = (to + minute - 1) / minute * minute;
  const int64_t from = query.from_us.value_or(to - 7 * storage::kDayUs);
  out.from_us = std::max<int64_t>(0, from) / minute * minute;
  if (out.from_us >= out.to_us) {
    return Status::InvalidArgument("from: must be before to (the window is empty)");
  }
  int64_t series_us = 0;
  switch (query.series) {
    case AnalyticsSeries::kNone:
      break;
    case AnalyticsSeries::kMinute:
      series_us = minute;
      break;
    case AnalyticsSeries::kHour:
      series_us = hour;
      break;
    case AnalyticsSeries::kDay:
      series_us = storage::kDayUs;
      break;
  }
  if (series_us != 0 && (out.to_us - out.from_us) / series_us > kMaxSeriesBuckets) {
    return Status::InvalidArgument("from: a series of at most " +
                                   std::to_string(kMaxSeriesBuckets) +
                                   " buckets; narrow the window or use a larger bucket");
  }
  // The cover: from each edge, buckets growing to the largest length that
  // fits, so the window is a few buckets of each granularity (none larger
  // than the series' bucket, so that no stored bucket straddles two points).
  struct Span {
    AggregateGranularity granularity;
    int64_t from, to;
  };
  std::vector<AggregateGranularity> levels;
  for (AggregateGranularity g : storage::kAggregateGranularities) {
    if (series_us == 0 || storage::BucketLengthUs(g) <= series_us) levels.push_back(g);
  }
  std::vector<Span> spans;
  auto add = [&](AggregateGranularity g, int64_t from, int64_t to) {
    if (from >= to) return;
    if (!spans.empty() && spans.back().granularity == g && spans.back().to == from) {
      spans.back().to = to;
    } else {
      spans.push_back({g, from, to});
    }
  };
  {
    int64_t lo = out.from_us, hi = out.to_us;
    // Rising from the start: each level up to the next boundary of the next.
    size_t level = 0;
    while (lo < hi) {
      const int64_t length = storage::BucketLengthUs(levels[level]);
      const bool top = level + 1 == levels.size();
      const int64_t next = top ? 0 : storage::BucketLengthUs(levels[level + 1]);
      if (!top && (lo + next - 1) / next * next + next <= hi) {
        const int64_t boundary = (lo + next - 1) / next * next;
        add(levels[level], lo, boundary);
        lo = boundary;
        ++level;
        continue;
      }
      // The largest buckets that fit, then falling to the end.
      const int64_t whole = lo + (hi - lo) / length * length;
      add(levels[level], lo, whole);
      lo = whole;
      if (level == 0) break;
      --level;
    }
  }
  // Group key: (bucket, model or task).
  std::map<std::tuple<int64_t, uint64_t, std::string>, AggregateSummary> groups;
  storage::ReadTxn txn(env_);
  HT_RETURN_IF_ERROR(txn.status());
  const storage::InferenceAggregateTable table(tables_);
  for (const Span& span : spans) {
    HT_RETURN_IF_ERROR(table.Scan(
        txn, span.granularity, query.model_id, span.from, span.to,
        [&](const storage::AggregateKey& key, storage::InferenceAggregateRecord&& record) {
          ++out.aggregate_rows_read;
          if (!query.task_type.empty() && key.task_type != query.task_type) return true;
          const int64_t bucket = series_us == 0 ? 0 : key.bucket_start_us / series_us * series_us;
          const bool by_model = query.group == AnalyticsGroup::kModel;
          groups[{bucket, by_model ? key.model_id : 0, by_model ? std::string() : key.task_type}]
              .Merge(record);
          return true;
        }));
  }
  for (auto& [key, summary] : groups) {
    if (summary.count == 0) continue;
    AnalyticsRow row;
    row.bucket_start_us = std::get<0>(key);
    row.model_id = std::get<1>(key);
    row.task_type = std::get<2>(key);
    row.count = summary.count;
    row.avg_duration_ms =
        static_cast<double>(summary.duration_us_sum) / 1000.0 / static_cast<double>(summary.count);
    row.p50_ms = summary.sketch.Quantile(0.50);
    row.p95_ms = summary.sketch.Quantile(0.95);
    row.p99_ms = summary.sketch.Quantile(0.99);
    row.confidence_count = summary.confidence_count;
    if (summary.confidence_count > 0) {
      row.avg_confidence = static_cast<double>(summary.confidence_nano_sum) / 1e9 /
                           static_cast<double>(summary.confidence_count);
    }
    row.input_tokens = summary.input_tokens;
    row.output_tokens = summary.output_tokens;
    out.rows.push_back(std::move(row));
  }
  auto column = [&](const AnalyticsRow& r) -> double {
    switch (query.sort_by) {
      case AnalyticsColumn::kCount:
        return static_cast<double>(r.count);
      case AnalyticsColumn::kAvgDuration:
        return r.avg_duration_ms;
      case AnalyticsColumn::kP50:
        return r.p50_ms;
      case AnalyticsColumn::kP95:
        return r.p95_ms;
      case AnalyticsColumn::kP99:
        return r.p99_ms;
      case AnalyticsColumn::kAvgConfidence:
        return r.avg_confidence;
      case AnalyticsColumn::kInputTokens:
        return static_cast<double>(r.input_tokens);
      case AnalyticsColumn::kOutputTokens:
        return static_cast<double>(r.output_tokens);
      case AnalyticsColumn::kKey:
        return 0;
    }
    return 0;
  };
  // Series in bucket order; within a bucket (or without a series) by the
  // column, ties by the group key: a deterministic order.
  std::stable_sort(out.rows.begin(), out.rows.end(),
                   [&](const AnalyticsRow& a, const AnalyticsRow& b) {
                     if (a.bucket_start_us != b.bucket_start_us) {
                       return a.bucket_start_us < b.bucket_start_us;
                     }
                     const double x = column(a), y = column(b);
                     if (x != y) return query.descending ? x > y : x < y;
                     if (query.sort_by == AnalyticsColumn::kKey && query.descending) {
                       return std::tie(b.model_id, b.task_type) < std::tie(a.model_id, a.task_type);
                     }
                     return std::tie(a.model_id, a.task_type) < std::tie(b.model_id, b.task_type);
                   });
  return out;
}

bool InferenceEngine::PruneBatchEnds(size_t done,
                                     std::chrono::steady_clock::time_point started) const {
  if (done == 0) return false;
  if (writer_.ForegroundWaiting()) {
    return std::chrono::steady_clock::now() - started >= kPruneYieldAfter;
  }
  return done % 64 == 0 && std::chrono::steady_clock::now() - started >= kPruneBatchTime;
}

Status InferenceEngine::PruneStep() {
  if (++prune_steps_ == options_.testing_prune_stop_after) {
    return Status::Aborted("PruneInferences: stopped after " + std::to_string(prune_steps_) +
                           " write steps (--testing-prune-stop-after)");
  }
  return Status::Ok();
}

Result<PruneSummary> InferenceEngine::PruneInferences(int64_t before_us) {
  Result<PruneSummary> result = Status::Internal("PruneInferences: did not run");
  RunOnLowPriorityThread([&] { result = Prune(before_us); });
  return result;
}

Result<PruneSummary> InferenceEngine::Prune(int64_t before_us) {
  MutexLock lock(&prune_mu_);
  prune_steps_ = 0;
  PruneSummary total;
  // References queued by an earlier prune that a crash stopped.
  HT_ASSIGN_OR_RETURN(total.atoms_released, ReleaseQueuedTexts());
  while (true) {
    // The oldest segment with work left, from a snapshot: one a crashed
    // prune began emptying, one whose rows are all older than before_us
    // (emptied whole), an older one without rows (its slot freed), or one
    // with older rows among newer ones (pruned row by row).
    enum class Work { kNone, kEmpty, kCloseNewest, kRows } work = Work::kNone;
    uint64_t number = 0;
    {
      storage::ReadTxn txn(env_);
      HT_RETURN_IF_ERROR(txn.status());
      HT_ASSIGN_OR_RETURN(const storage::InferenceTable rows,
                          storage::InferenceTable::Open(txn, tables_));
      const auto& segments = rows.segments();
      for (size_t i = 0; i < segments.size() && work == Work::kNone; ++i) {
        const storage::InferenceSegment& segment = segments[i];
        const bool newest = i + 1 == segments.size();
        HT_ASSIGN_OR_RETURN(const std::optional<int64_t> newest_start,
                            rows.NewestStart(txn, segment));
        HT_ASSIGN_OR_RETURN(const std::optional<int64_t> oldest_start,
                            rows.OldestStart(txn, segment));
        number = segment.number;
        if (segment.emptying() || (!newest && !newest_start)) {
          work = Work::kEmpty;
        } else if (newest_start && *newest_start < before_us) {
          work = newest ? Work::kCloseNewest : Work::kEmpty;
        } else if (oldest_start && *oldest_start < before_us) {
          work = Work::kRows;
        }
      }
    }
    if (work == Work::kNone) break;
    if (work == Work::kCloseNewest) {
      // New rows go to a new segment, so this one can be emptied whole;
      // without a free slot its rows are deleted one by one.
      bool started = false;
      HT_RETURN_IF_ERROR(writer_.WriteBackground(
          [&](storage::WriteTxn& txn) -> Status {
            HT_ASSIGN_OR_RETURN(storage::InferenceTable rows,
                                storage::InferenceTable::Open(txn, tables_));
            started = false;
            if (rows.segments().back().number != number) return Status::Ok();
            HT_ASSIGN_OR_RETURN(started, rows.StartSegment(txn));
            return Status::Ok();
          },
          64, 1));
      if (started) HT_RETURN_IF_ERROR(PruneStep());
      work = started ? Work::kEmpty : Work::kRows;
    }
    if (work == Work::kEmpty) {
      HT_RETURN_IF_ERROR(EmptySegment(number, &total));
    } else {
      HT_RETURN_IF_ERROR(PruneRows(number, before_us, &total));
    }
  }
  HT_ASSIGN_OR_RETURN(const uint64_t released, ReleaseQueuedTexts());
  total.atoms_released += released;
  return total;
}

namespace {

// The segment numbered `number` in rows' list; Aborted if it is gone (the
// prune holds the only writer of the list's older segments).
Result<storage::InferenceSegment> SegmentNumbered(const storage::InferenceTable& rows,
                                                  uint64_t number) {
  for (const storage::InferenceSegment& segment : rows.segments()) {
    if (segment.number == number) return segment;
  }
  return Status::Aborted("inference_segments: segment " + std::to_string(number) +
                         " changed during the prune");
}

}  // namespace

Status InferenceEngine::EmptySegment(uint64_t number, PruneSummary* summary) {
  // Every text reference the segment's rows hold, gathered while the rows
  // are read for the deletion batches (rows hidden before this call: first).
  std::map<uint64_t, uint64_t> texts;
  auto hold_texts = [&](const InferenceRecord& record) {
    for (uint64_t atom_id : {record.input_atom_id(), record.output_atom_id()}) {
      if (atom_id != 0) ++texts[atom_id];
    }
  };
  storage::InferenceSegment segment;
  {
    storage::ReadTxn txn(env_);
    HT_RETURN_IF_ERROR(txn.status());
    HT_ASSIGN_OR_RETURN(const storage::InferenceTable rows,
                        storage::InferenceTable::Open(txn, tables_));
    HT_ASSIGN_OR_RETURN(segment, SegmentNumbered(rows, number));
    if (segment.hidden_before_us > 0) {
      HT_RETURN_IF_ERROR(
          rows.ScanSegment(txn, segment, 0, [&](const InferenceRecord& r) -> Result<bool> {
            if (r.start_us() >= segment.hidden_before_us) return false;
            hold_texts(r);
            return true;
          }));
    }
  }
  // 1. The rows are deleted for readers in time order: each batch, planned
  // from a snapshot, subtracts the next rows from the aggregates, deletes
  // their request ids and moves hidden_before_us past them.
  while (segment.hidden_before_us != storage::kAllRowsHidden) {
    AggregateChanges changes;
    std::vector<std::string> request_ids;
    int64_t hidden_before = storage::kAllRowsHidden;
    uint64_t batch_rows = 0;
    {
      storage::ReadTxn txn(env_);
      HT_RETURN_IF_ERROR(txn.status());
      HT_ASSIGN_OR_RETURN(const storage::InferenceTable rows,
                          storage::InferenceTable::Open(txn, tables_));
      int64_t last_start = -1;
      HT_RETURN_IF_ERROR(rows.ScanSegment(
          txn, segment, segment.hidden_before_us, [&](const InferenceRecord& r) -> Result<bool> {
            // A batch ends between two start times once it is full.
            if (r.start_us() != last_start &&
                changes.size() + request_ids.size() >= kEmptyBatchWrites) {
              hidden_before = r.start_us();
              return false;
            }
            last_start = r.start_us();
            changes.Add(r, -1);
            if (!r.request_id().empty()) request_ids.push_back(r.request_id());
            hold_texts(r);
            ++batch_rows;
            return true;
          }));
    }
    HT_RETURN_IF_ERROR(writer_.WriteBackground(
        [&](storage::WriteTxn& txn) -> Status {
          HT_ASSIGN_OR_RETURN(storage::InferenceTable rows,
                              storage::InferenceTable::Open(txn, tables_));
          HT_ASSIGN_OR_RETURN(storage::InferenceSegment stored, SegmentNumbered(rows, number));
          if (stored.hidden_before_us != segment.hidden_before_us) {
            return Status::Aborted("inference_segments: segment " + std::to_string(number) +
                                   " changed during the prune");
          }
          HT_RETURN_IF_ERROR(changes.Apply(txn, storage::InferenceAggregateTable(tables_)));
          for (const std::string& request_id : request_ids) {
            HT_RETURN_IF_ERROR(rows.RemoveRequestId(txn, request_id));
          }
          stored.hidden_before_us = hidden_before;
          return rows.UpdateSegment(txn, stored);
        },
        (changes.size() + request_ids.size()) * 256, changes.size() + request_ids.size() + 1));
    HT_RETURN_IF_ERROR(PruneStep());
    segment.hidden_before_us = hidden_before;
    summary->inferences_deleted += batch_rows;
    ++summary->batches;
  }
  // 2. The texts' references are queued, in atom-id order, after the last
  // one a crashed prune queued; the last batch empties the segment's tables.
  auto next = texts.upper_bound(segment.texts_queued_through);
  while (true) {
    auto end = next;
    HT_RETURN_IF_ERROR(writer_.WriteBackground(
        [&](storage::WriteTxn& txn) -> Status {
          HT_ASSIGN_OR_RETURN(storage::InferenceTable rows,
                              storage::InferenceTable::Open(txn, tables_));
          HT_ASSIGN_OR_RETURN(storage::InferenceSegment stored, SegmentNumbered(rows, number));
          const storage::PendingReleaseTable queue(tables_);
          const auto started = std::chrono::steady_clock::now();
          end = next;
          for (size_t k = 0; end != texts.end() && k < kPruneBatchRows; ++k, ++end) {
            if (PruneBatchEnds(k, started)) break;
            HT_RETURN_IF_ERROR(queue.Add(txn, end->first, end->second));
          }
          if (end != texts.end()) {
            stored.texts_queued_through = std::prev(end)->first;
            return rows.UpdateSegment(txn, stored);
          }
          return rows.DropSegment(txn, stored);
        },
        size_t{kPruneBatchRows} * 32, kPruneBatchRows));
    HT_RETURN_IF_ERROR(PruneStep());
    ++summary->batches;
    if (end == texts.end()) return Status::Ok();
    next = end;
  }
}

Status InferenceEngine::PruneRows(uint64_t number, int64_t before_us, PruneSummary* summary) {
  while (true) {
    PruneSummary batch;
    bool more = false;  // rows before before_us may be left
    HT_RETURN_IF_ERROR(writer_.WriteBackground(
        [&](storage::WriteTxn& txn) -> Status {
          batch = PruneSummary{};
          HT_ASSIGN_OR_RETURN(storage::InferenceTable rows,
                              storage::InferenceTable::Open(txn, tables_));
          HT_ASSIGN_OR_RETURN(const storage::InferenceSegment segment,
                              SegmentNumbered(rows, number));
          std::vector<uint64_t> ids;
          HT_RETURN_IF_ERROR(
              rows.ScanOldestFirst(txn, segment, before_us, [&](int64_t, uint64_t id) {
                ids.push_back(id);
                return ids.size() < kPruneBatchRows;
              }));
          more = ids.size() == kPruneBatchRows;
          AggregateChanges changes;
          std::map<uint64_t, uint64_t> released;  // text atom -> rows of the batch holding it
          const auto started = std::chrono::steady_clock::now();
          for (size_t k = 0; k < ids.size(); ++k) {
            // A waiting write, or the time bound: the rest waits for the
            // next batch.
            if (PruneBatchEnds(k, started)) {
              more = true;
              break;
            }
            const uint64_t id = ids[k];
            HT_ASSIGN_OR_RETURN(std::optional<InferenceRecord> record, rows.Find(txn, id));
            if (!record) {
              return Status::DataLoss("inference_by_time: entry without row " + std::to_string(id));
            }
            HT_RETURN_IF_ERROR(rows.Remove(txn, *record));
            changes.Add(*record, -1);
            for (uint64_t atom_id : {record->input_atom_id(), record->output_atom_id()}) {
              if (atom_id != 0) ++released[atom_id];
            }
            ++batch.inferences_deleted;
          }
          HT_RETURN_IF_ERROR(changes.Apply(txn, storage::InferenceAggregateTable(tables_)));
          // The texts' references are queued with the rows' deletion and
          // released at the end of the prune, each text once.
          const storage::PendingReleaseTable queue(tables_);
          for (const auto& [atom_id, references] : released) {
            HT_RETURN_IF_ERROR(queue.Add(txn, atom_id, references));
          }
          return Status::Ok();
        },
        size_t{kPruneBatchRows} * 256, kPruneBatchRows));
    if (batch.inferences_deleted > 0) HT_RETURN_IF_ERROR(PruneStep());
    summary->inferences_deleted += batch.inferences_deleted;
    if (batch.inferences_deleted == 0) return Status::Ok();
    ++summary->batches;
    if (!more) return Status::Ok();
  }
}

Result<uint64_t> InferenceEngine::ReleaseQueuedTexts() {
  uint64_t total = 0;
  while (true) {
    uint64_t references = 0;
    size_t handled = 0;  // queue entries removed by the batch
    bool more = false;
    const int64_t now = NowMicros();
    HT_RETURN_IF_ERROR(writer_.WriteBackground(
        [&](storage::WriteTxn& txn) -> Status {
          references = 0;
          handled = 0;
          const storage::PendingReleaseTable queue(tables_);
          std::vector<std::pair<uint64_t, uint64_t>> queued;
          HT_RETURN_IF_ERROR(queue.Scan(txn, [&](uint64_t atom_id, uint64_t n) {
            queued.emplace_back(atom_id, n);
            return queued.size() < kPruneBatchRows;
          }));
          more = queued.size() == kPruneBatchRows;
          storage::AtomTable atoms(tables_);
          storage::RelationTable relations(tables_);
          const auto started = std::chrono::steady_clock::now();
          for (size_t k = 0; k < queued.size(); ++k) {
            if (PruneBatchEnds(k, started)) {
              more = true;
              break;
            }
            const auto [atom_id, queued_references] = queued[k];
            // A text whose references a DeleteAtom dropped meanwhile holds
            // fewer (or none): release what is left of them.
            HT_ASSIGN_OR_RETURN(std::optional<storage::AtomRecord> atom, atoms.Get(txn, atom_id));
            const uint64_t n =
                atom && atom->is_active()
                    ? std::min<uint64_t>(queued_references,
                                         static_cast<uint64_t>(atom->reference_count()))
                    : 0;
            if (n > 0) {
              HT_RETURN_IF_ERROR(storage::ReleaseReferences(txn, atoms, relations, atom_id, n, now,
                                                            nullptr, nullptr));
            }
            HT_RETURN_IF_ERROR(queue.Remove(txn, atom_id));
            references += n;
            ++handled;
          }
          return atoms.FlushCounters(txn);
        },
        size_t{kPruneBatchRows} * 64, kPruneBatchRows));
    if (handled > 0) HT_RETURN_IF_ERROR(PruneStep());
    total += references;
    if (!more || handled == 0) break;
  }
  return total;
}

namespace {

// Bytes per element of the dtypes whose size is known; 0 = unknown.
size_t DtypeBytes(std::string_view dtype) {
  static const std::map<std::string_view, size_t> kSizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2},  {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
      {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2},  {"U32", 4}, {"U64", 8}};
  auto it = kSizes.find(dtype);
  return it == kSizes.end() ? 0 : it->second;
}

Result<storage::ModelLayerRecord> FindLayer(storage::Txn& txn, const storage::ModelTable& models,
                                            uint64_t layer_id) {
  HT_ASSIGN_OR_RETURN(std::optional<storage::ModelLayerRecord> layer,
                      models.FindLayerById(txn, layer_id));
  if (!layer) return Status::NotFound("layer_id: no layer " + std::to_string(layer_id));
  return std::move(*layer);
}

}  // namespace

Result<storage::ModelLayerRecord> InferenceEngine::PutActivation(const ActivationInput& input) {
  return AwaitResult<storage::ModelLayerRecord>(
      [&](PutActivationDone done) { PutActivationAsync(input, std::move(done)); });
}

void InferenceEngine::PutActivationAsync(ActivationInput activation, PutActivationDone done) {
  const int64_t now = NowMicros();
  const size_t bytes = activation.data.size() + 256;
  auto shared = std::make_shared<const ActivationInput>(std::move(activation));
  WriteThen<storage::ModelLayerRecord>(
      writer_,
      [this, shared, now](storage::WriteTxn& txn, storage::ModelLayerRecord& result) -> Status {
        const ActivationInput& input = *shared;
        const storage::ModelTable models(tables_);
        const storage::ActivationTable activations(tables_);
        HT_ASSIGN_OR_RETURN(storage::ModelLayerRecord layer,
                            FindLayer(txn, models, input.layer_id));
        if (layer.tensor_shape_size() > 0 &&
            !std::equal(layer.tensor_shape().begin(), layer.tensor_shape().end(),
                        input.shape.begin(), input.shape.end())) {
          return Status::InvalidArgument("shape: must equal layer " +
                                         std::to_string(input.layer_id) + "'s tensor_shape");
        }
        if (!layer.tensor_dtype().empty() && layer.tensor_dtype() != input.dtype) {
          return Status::InvalidArgument("dtype: must equal layer " +
                                         std::to_string(input.layer_id) + "'s tensor_dtype '" +
                                         layer.tensor_dtype() + "'");
        }
        if (const size_t element = DtypeBytes(input.dtype); element != 0 && !input.shape.empty()) {
          uint64_t elements = 1;
          for (uint64_t d : input.shape) elements *= d;
          if (elements * element != input.data.size()) {
            return Status::InvalidArgument("data: " + std::to_string(input.data.size()) +
                                           " bytes, but shape and dtype need " +
                                           std::to_string(elements * element));
          }
        }
        HT_ASSIGN_OR_RETURN(std::optional<storage::CachedActivationRecord> old,
                            activations.Find(txn, input.layer_id, input.input_hash));
        storage::CachedActivationRecord record;
        record.set_layer_id(input.layer_id);
        record.set_input_hash(input.input_hash);
        *record.mutable_shape() = {input.shape.begin(), input.shape.end()};
        record.set_dtype(input.dtype);
        record.set_data(input.data);
        record.set_compute_time_ms(input.compute_time_ms);
        record.set_created_at_us(now);
        if (old) record.set_hits(old->hits());
        HT_RETURN_IF_ERROR(activations.Put(txn, record));
        HT_ASSIGN_OR_RETURN(storage::ActivationStatsRecord stats,
                            activations.Stats(txn, input.layer_id));
        stats.set_puts(stats.puts() + 1);
        stats.set_compute_time_ms_sum(stats.compute_time_ms_sum() + input.compute_time_ms);
        HT_RETURN_IF_ERROR(activations.PutStats(txn, input.layer_id, stats));
        layer.set_avg_compute_time_ms(stats.compute_time_ms_sum() /
                                      static_cast<double>(stats.puts()));
        HT_RETURN_IF_ERROR(models.PutLayer(txn, layer));
        result = std::move(layer);
        return Status::Ok();
      },
      std::move(done), bytes);
}

Result<ActivationLookup> InferenceEngine::GetActivation(uint64_t layer_id,
                                                        std::string_view input_hash) {
  return AwaitResult<ActivationLookup>([&](GetActivationDone done) {
    GetActivationAsync(layer_id, std::string(input_hash), std::move(done));
  });
}

void InferenceEngine::GetActivationAsync(uint64_t layer_id, std::string input_hash,
                                         GetActivationDone done) {
  const int64_t now = NowMicros();
  WriteThen<ActivationLookup>(
      writer_,
      [this, layer_id, input_hash = std::move(input_hash), now](
          storage::WriteTxn& txn, ActivationLookup& result) -> Status {
        const storage::ModelTable models(tables_);
        const storage::ActivationTable activations(tables_);
        HT_ASSIGN_OR_RETURN(storage::ModelLayerRecord layer, FindLayer(txn, models, layer_id));
        HT_ASSIGN_OR_RETURN(result.activation, activations.Find(txn, layer_id, input_hash));
        HT_ASSIGN_OR_RETURN(storage::ActivationStatsRecord stats, activations.Stats(txn, layer_id));
        stats.set_lookups(stats.lookups() + 1);
        if (result.activation) {
          stats.set_hits(stats.hits() + 1);
          result.activation->set_hits(result.activation->hits() + 1);
          result.activation->set_last_hit_us(now);
          HT_RETURN_IF_ERROR(activations.Put(txn, *result.activation));
        }
        HT_RETURN_IF_ERROR(activations.PutStats(txn, layer_id, stats));
        layer.set_cache_hit_rate(static_cast<double>(stats.hits()) /
                                 static_cast<double>(stats.lookups()));
        HT_RETURN_IF_ERROR(models.PutLayer(txn, layer));
        result.layer = std::move(layer);
        return Status::Ok();
      },
      std::move(done));
}

Result<uint64_t> InferenceEngine::RemoveModelActivations(
    storage::WriteTxn& txn, const std::vector<storage::ModelLayerRecord>& layers) {
  const storage::ActivationTable activations(tables_);
  uint64_t removed = 0;
  for (const auto& layer : layers) {
    HT_ASSIGN_OR_RETURN(uint64_t rows, activations.RemoveLayer(txn, layer.layer_id()));
    removed += rows;
  }
  return removed;
}

}  // namespace hartonomous::engine
