#include "inference.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_errors.h"
#include "commands.h"
#include "format.h"
#include "json_output.h"
#include "table.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;
using json = nlohmann::ordered_json;

int64_t ParseInt64(const std::string& text, const std::string& what) {
  size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) {
    throw UsageError(what + ": '" + text + "' is not an integer");
  }
  return value;
}

// The model id of NAME|ID (a name is looked up).
uint64_t ResolveModel(Client& client, const std::string& arg) {
  if (AllDigits(arg)) return ParseUint64(arg, "model id");
  v1::GetModelRequest get;
  get.set_model_name(arg);
  v1::Model model;
  Check(client.GetModel(get, &model));
  return model.model_id();
}

google::protobuf::Timestamp HoursAgo(double hours) {
  const auto now = std::chrono::system_clock::now() -
                   std::chrono::microseconds(static_cast<int64_t>(hours * 3600e6));
  const int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1000000);
  ts.set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return ts;
}

std::string Ms(double ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f", ms);
  return text;
}

json InferenceToJson(const v1::Inference& i) {
  json steps = json::array();
  for (const auto& s : i.steps()) {
    steps.push_back({{"step_index", s.step_index()},
                     {"step_name", s.step_name()},
                     {"step_kind", s.step_kind()},
                     {"duration_ms", s.duration_ms()},
                     {"metadata", MetadataToJson(s.metadata())}});
  }
  json attributes = json::object();
  for (const auto& [k, v] : i.attributes()) attributes[k] = v;
  return {
      {"inference_id", i.inference_id()},
      {"model_id", i.model_id()},
      {"task_type", i.task_type()},
      {"input_text", i.has_input_text() ? json(i.input_text()) : json(nullptr)},
      {"output_text", i.has_output_text() ? json(i.output_text()) : json(nullptr)},
      {"input_vector", json(i.input_vector())},
      {"confidence", i.has_confidence() ? json(i.confidence()) : json(nullptr)},
      {"start_time", FormatTimestamp(i.start_time())},
      {"end_time", FormatTimestamp(i.end_time())},
      {"duration_ms", i.duration_ms()},
      {"input_tokens", i.input_tokens()},
      {"output_tokens", i.output_tokens()},
      {"temperature", i.has_temperature() ? json(i.temperature()) : json(nullptr)},
      {"metadata", MetadataToJson(i.metadata())},
      {"steps", steps},
      {"request_id", i.request_id()},
      {"provider", i.provider()},
      {"response_model", i.response_model()},
      {"attributes", attributes},
      {"input_atom_id", i.input_atom_id()},
      {"output_atom_id", i.output_atom_id()},
  };
}

}  // namespace

std::vector<OptionSpec> InferenceLogOptions() {
  return {{"model", 0, "MODEL", "the model (name or id); none = an ensemble"},
          {"task", 0, "T", "task type, e.g. chat (gen_ai.operation.name)"},
          {"input", 0, "TEXT", "the input text"},
          {"output", 0, "TEXT", "the output text"},
          {"duration-ms", 0, "MS", "duration in milliseconds (required)"},
          {"confidence", 0, "C", "confidence in [0, 1]"},
          {"temperature", 0, "T", "sampling temperature"},
          {"input-tokens", 0, "N", "input tokens"},
          {"output-tokens", 0, "N", "tokens generated"},
          {"metadata", 0, "JSON", "a JSON object"},
          {"attributes", 0, "JSON", "OpenTelemetry attributes as a JSON object of strings"},
          {"request-id", 0, "ID", "makes a retry log it once"}};
}

std::vector<OptionSpec> InferenceListOptions() {
  return {{"model", 0, "MODEL", "only this model's inferences (name or id; 0 = no model)"},
          {"task", 0, "T", "only this task type"},
          {"text", 0, "", "include input and output texts"},
          {"limit", 0, "N", "stop after N inferences (default: 20; 0 = all)"}};
}

std::vector<OptionSpec> InferenceStatsOptions() {
  return {{"by", 0, "model|task", "group by model (default) or task type"},
          {"bucket", 0, "none|minute|hour|day", "a time series (default: none)"},
          {"sort", 0, "COLUMN",
           "count (default), avg, p50, p95, p99, confidence, input-tokens, output-tokens, key"},
          {"asc", 0, "", "ascending (default: descending)"},
          {"model", 0, "MODEL", "only this model (name or id; 0 = no model)"},
          {"task", 0, "T", "only this task type"},
          {"hours", 0, "H", "the window: the last H hours (default: 168 = 7 days)"}};
}

void RunInferenceLog(const Invocation& invocation) {
  Client client(MakeClientOptions(invocation.global));
  v1::LogInferenceRequest request;
  const std::string model = invocation.Get("model");
  if (AllDigits(model)) {
    request.set_model_id(ParseUint64(model, "--model"));
  } else {
    request.set_model_name(model);
  }
  request.set_task_type(invocation.Get("task"));
  if (invocation.Has("input")) request.set_input_text(invocation.Get("input"));
  if (invocation.Has("output")) request.set_output_text(invocation.Get("output"));
  if (invocation.Has("duration-ms")) {
    request.set_duration_ms(ParseDouble(invocation.Get("duration-ms"), "--duration-ms"));
  }
  if (invocation.Has("confidence")) {
    request.set_confidence(ParseDouble(invocation.Get("confidence"), "--confidence"));
  }
  if (invocation.Has("temperature")) {
    request.set_temperature(ParseDouble(invocation.Get("temperature"), "--temperature"));
  }
  if (invocation.Has("input-tokens")) {
    request.set_input_tokens(ParseInt64(invocation.Get("input-tokens"), "--input-tokens"));
  }
  if (invocation.Has("output-tokens")) {
    request.set_output_tokens(ParseInt64(invocation.Get("output-tokens"), "--output-tokens"));
  }
  request.set_metadata(invocation.Get("metadata"));
  request.set_request_id(invocation.Get("request-id"));
  if (invocation.Has("attributes")) {
    json attributes = json::parse(invocation.Get("attributes"), nullptr, false);
    if (!attributes.is_object()) throw UsageError("--attributes: must be a JSON object");
    for (const auto& [key, value] : attributes.items()) {
      if (!value.is_string()) throw UsageError("--attributes: values must be strings");
      (*request.mutable_attributes())[key] = value.get<std::string>();
    }
  }
  v1::LogInferenceResponse response;
  Check(client.LogInference(request, &response));
  if (invocation.global.json) {
    PrintJson(std::cout, json{{"inference_id", response.inference_id()},
                              {"already_logged", response.already_logged()}});
    return;
  }
  std::cout << (response.already_logged() ? "already logged as inference " : "logged inference ")
            << response.inference_id() << "\n";
}

void RunInferenceList(const Invocation& invocation) {
  Client client(MakeClientOptions(invocation.global));
  v1::ListInferencesRequest request;
  if (invocation.Has("model")) request.set_model_id(ResolveModel(client, invocation.Get("model")));
  request.set_task_type(invocation.Get("task"));
  request.set_include_text(invocation.Has("text"));
  const uint64_t limit = invocation.GetUint("limit", 20);
  if (limit > 0 && limit < 1000) request.set_page_size(static_cast<int32_t>(limit));
  const bool as_json = invocation.global.json;
  json all = json::array();
  Table table({{"ID", true},
               {"MODEL", true},
               {"TASK"},
               {"START"},
               {"DURATION_MS", true},
               {"CONFIDENCE", true},
               {"TOKENS_IN", true},
               {"TOKENS_OUT", true}});
  uint64_t count = 0;
  Check(client.ListInferences(request, [&](const v1::Inference& i) {
    if (as_json) {
      all.push_back(InferenceToJson(i));
    } else {
      table.AddRow({std::to_string(i.inference_id()), std::to_string(i.model_id()), i.task_type(),
                    FormatTimestamp(i.start_time()), Ms(i.duration_ms()),
                    i.has_confidence() ? Ms(i.confidence()) : "", std::to_string(i.input_tokens()),
                    std::to_string(i.output_tokens())});
    }
    ++count;
    return limit == 0 || count < limit;
  }));
  if (as_json) {
    PrintJson(std::cout, all);
    return;
  }
  if (count > 0) table.Flush(std::cout);
  std::cout << count << (count == 1 ? " inference\n" : " inferences\n");
}

void RunInferenceShow(const Invocation& invocation) {
  Client client(MakeClientOptions(invocation.global));
  v1::Inference inference;
  Check(client.GetInference(ParseUint64(invocation.args[0], "inference id"), &inference));
  if (invocation.global.json) {
    PrintJson(std::cout, InferenceToJson(inference));
    return;
  }
  // The JSON form, indented, reads well as text too.
  std::cout << InferenceToJson(inference).dump(2) << "\n";
}

void RunInferenceStats(const Invocation& invocation) {
  Client client(MakeClientOptions(invocation.global));
  v1::GetInferenceAnalyticsRequest request;
  const std::string by = invocation.Get("by", "model");
  if (by != "model" && by != "task") throw UsageError("--by: model or task");
  request.set_group_by(by == "task" ? v1::ANALYTICS_GROUP_BY_TASK_TYPE
                                    : v1::ANALYTICS_GROUP_BY_MODEL);
  const std::string bucket = invocation.Get("bucket", "none");
  if (bucket == "minute") {
    request.set_bucket(v1::ANALYTICS_BUCKET_MINUTE);
  } else if (bucket == "hour") {
    request.set_bucket(v1::ANALYTICS_BUCKET_HOUR);
  } else if (bucket == "day") {
    request.set_bucket(v1::ANALYTICS_BUCKET_DAY);
  } else if (bucket != "none") {
    throw UsageError("--bucket: none, minute, hour or day");
  }
  static const std::pair<const char*, v1::AnalyticsSortBy> kSorts[] = {
      {"count", v1::ANALYTICS_SORT_BY_COUNT},
      {"avg", v1::ANALYTICS_SORT_BY_AVG_DURATION},
      {"p50", v1::ANALYTICS_SORT_BY_P50},
      {"p95", v1::ANALYTICS_SORT_BY_P95},
      {"p99", v1::ANALYTICS_SORT_BY_P99},
      {"confidence", v1::ANALYTICS_SORT_BY_AVG_CONFIDENCE},
      {"input-tokens", v1::ANALYTICS_SORT_BY_INPUT_TOKENS},
      {"output-tokens", v1::ANALYTICS_SORT_BY_OUTPUT_TOKENS},
      {"key", v1::ANALYTICS_SORT_BY_KEY}};
  const std::string sort = invocation.Get("sort", "count");
  bool known = false;
  for (const auto& [name, value] : kSorts) {
    if (sort == name) {
      request.set_sort_by(value);
      known = true;
    }
  }
  if (!known) throw UsageError("--sort: unknown column '" + sort + "'");
  request.set_ascending(invocation.Has("asc"));
  if (invocation.Has("model")) request.set_model_id(ResolveModel(client, invocation.Get("model")));
  request.set_task_type(invocation.Get("task"));
  if (invocation.Has("hours")) {
    *request.mutable_from() = HoursAgo(ParseDouble(invocation.Get("hours"), "--hours"));
  }
  v1::GetInferenceAnalyticsResponse response;
  Check(client.GetInferenceAnalytics(request, &response));
  const bool series = request.bucket() != v1::ANALYTICS_BUCKET_NONE;
  if (invocation.global.json) {
    json rows = json::array();
    for (const auto& r : response.rows()) {
      json row = {{"model_id", r.model_id()},
                  {"task_type", r.task_type()},
                  {"count", r.count()},
                  {"avg_duration_ms", r.avg_duration_ms()},
                  {"p50_duration_ms", r.p50_duration_ms()},
                  {"p95_duration_ms", r.p95_duration_ms()},
                  {"p99_duration_ms", r.p99_duration_ms()},
                  {"confidence_count", r.confidence_count()},
                  {"avg_confidence", r.avg_confidence()},
                  {"input_tokens", r.input_tokens()},
                  {"output_tokens", r.output_tokens()}};
      if (series) row["bucket_start"] = FormatTimestamp(r.bucket_start());
      rows.push_back(std::move(row));
    }
    PrintJson(std::cout, json{{"from", FormatTimestamp(response.from())},
                              {"to", FormatTimestamp(response.to())},
                              {"rows", rows}});
    return;
  }
  std::vector<Table::Column> columns;
  if (series) columns.push_back({"BUCKET"});
  columns.push_back({by == "task" ? "TASK" : "MODEL", by != "task"});
  for (const char* name :
       {"COUNT", "AVG_MS", "P50_MS", "P95_MS", "P99_MS", "AVG_CONF", "TOKENS_IN", "TOKENS_OUT"}) {
    columns.push_back({name, true});
  }
  Table table(columns);
  for (const auto& r : response.rows()) {
    std::vector<std::string> cells;
    if (series) cells.push_back(FormatTimestamp(r.bucket_start()));
    cells.push_back(by == "task" ? r.task_type() : std::to_string(r.model_id()));
    cells.push_back(std::to_string(r.count()));
    cells.push_back(Ms(r.avg_duration_ms()));
    cells.push_back(Ms(r.p50_duration_ms()));
    cells.push_back(Ms(r.p95_duration_ms()));
    cells.push_back(Ms(r.p99_duration_ms()));
    cells.push_back(r.confidence_count() > 0 ? Ms(r.avg_confidence()) : "");
    cells.push_back(std::to_string(r.input_tokens()));
    cells.push_back(std::to_string(r.output_tokens()));
    table.AddRow(std::move(cells));
  }
  std::cout << "window " << FormatTimestamp(response.from()) << " .. "
            << FormatTimestamp(response.to()) << "\n";
  if (response.rows_size() > 0) table.Flush(std::cout);
  std::cout << response.rows_size() << (response.rows_size() == 1 ? " row\n" : " rows\n");
}

void RunInferencePrune(const Invocation& invocation) {
  if (!invocation.Has("older-than-hours")) {
    throw UsageError("inference prune needs --older-than-hours H");
  }
  const double hours = ParseDouble(invocation.Get("older-than-hours"), "--older-than-hours");
  if (!(hours >= 0)) throw UsageError("--older-than-hours: must be >= 0");
  v1::PruneInferencesRequest request;
  *request.mutable_older_than() = HoursAgo(hours);
  const v1::PruneInferencesResponse pruned = Call(invocation, &Client::PruneInferences, request);
  if (invocation.global.json) {
    PrintJson(std::cout, json{{"older_than", FormatTimestamp(request.older_than())},
                              {"inferences_deleted", pruned.inferences_deleted()},
                              {"batches", pruned.batches()},
                              {"atoms_released", pruned.atoms_released()}});
  } else {
    std::cout << "deleted " << pruned.inferences_deleted() << " inferences started before "
              << FormatTimestamp(request.older_than()) << " (" << pruned.batches() << " batches, "
              << pruned.atoms_released() << " text atoms released)\n";
  }
}

}  // namespace hartonomous::cli
