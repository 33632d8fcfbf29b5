// InferenceService through the client library against the real
// hartonomousd: logging with steps, texts and GenAI attributes, paging
// newest first, analytics equal to a brute force over the logged rows
// (window edges, rows without a model, bucket boundaries), usage counters
// under concurrent logging, pruning, idempotent retries, bad input, a
// cancelled stream, cached activations, and durability across kill -9.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon_harness.h"
#include "stopped_store.h"
#include "storage/lmdb_env.h"
#include "storage/schema.h"
#include "storage/tables/inference_table.h"
#include "storage/tables/pending_release_table.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

constexpr int64_t kMinute = int64_t{60} * 1000000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

google::protobuf::Timestamp Ts(int64_t us) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1000000);
  ts.set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return ts;
}

int64_t Us(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

uint64_t CreateModel(Client& client, const std::string& name, int layers = 0) {
  v1::CreateModelRequest request;
  request.mutable_model()->set_model_name(name);
  for (int i = 0; i < layers; ++i) {
    auto* layer = request.add_layers();
    layer->set_layer_idx(static_cast<uint32_t>(i));
    layer->set_layer_name("blk." + std::to_string(i) + ".attn.weight");
    layer->add_tensor_shape(2);
    layer->add_tensor_shape(3);
    layer->set_tensor_dtype("F32");
  }
  v1::Model model;
  grpc::Status status = client.CreateModel(request, &model);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return model.model_id();
}

v1::Model GetModel(Client& client, uint64_t id) {
  v1::GetModelRequest request;
  request.set_model_id(id);
  v1::Model model;
  REQUIRE(client.GetModel(request, &model).ok());
  return model;
}

// What the brute force needs of a logged row.
struct Row {
  uint64_t model_id = 0;
  std::string task;
  int64_t start_us = 0;
  int64_t duration_us = 0;
  std::optional<double> confidence;
  int64_t input_tokens = 0, output_tokens = 0;
};

v1::LogInferenceRequest ToRequest(const Row& row) {
  v1::LogInferenceRequest r;
  r.set_model_id(row.model_id);
  r.set_task_type(row.task);
  *r.mutable_start_time() = Ts(row.start_us);
  r.set_duration_ms(static_cast<double>(row.duration_us) / 1000.0);
  if (row.confidence) r.set_confidence(*row.confidence);
  r.set_input_tokens(row.input_tokens);
  r.set_output_tokens(row.output_tokens);
  return r;
}

uint64_t Log(Client& client, const v1::LogInferenceRequest& request, bool* already = nullptr) {
  v1::LogInferenceResponse response;
  grpc::Status status = client.LogInference(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  if (already != nullptr) *already = response.already_logged();
  return response.inference_id();
}

struct Expected {
  uint64_t count = 0;
  int64_t duration_sum = 0;
  uint64_t confidence_count = 0;
  int64_t confidence_nanos = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  std::vector<double> durations_ms;
};

// Brute force over rows in [from, to), grouped by model or task (and bucket).
std::map<std::pair<int64_t, std::string>, Expected> BruteForce(const std::vector<Row>& rows,
                                                               int64_t from, int64_t to,
                                                               bool by_model, int64_t bucket) {
  std::map<std::pair<int64_t, std::string>, Expected> out;
  for (const Row& row : rows) {
    if (row.start_us < from || row.start_us >= to) continue;
    const int64_t b = bucket == 0 ? 0 : row.start_us / bucket * bucket;
    Expected& e = out[{b, by_model ? std::to_string(row.model_id) : row.task}];
    ++e.count;
    e.duration_sum += row.duration_us;
    if (row.confidence) {
      ++e.confidence_count;
      e.confidence_nanos += std::llround(*row.confidence * 1e9);
    }
    e.input_tokens += row.input_tokens;
    e.output_tokens += row.output_tokens;
    e.durations_ms.push_back(static_cast<double>(row.duration_us) / 1000.0);
  }
  return out;
}

double ExactQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(std::floor(q * static_cast<double>(values.size() - 1)))];
}

// The analytics of request equal the brute force over rows.
void CheckAnalytics(Client& client, const std::vector<Row>& rows,
                    v1::GetInferenceAnalyticsRequest request) {
  v1::GetInferenceAnalyticsResponse response;
  grpc::Status status = client.GetInferenceAnalytics(request, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  const int64_t from = Us(response.from()), to = Us(response.to());
  CHECK(from % kMinute == 0);
  CHECK(to % kMinute == 0);
  if (request.has_from()) CHECK(from == Us(request.from()) / kMinute * kMinute);
  const bool by_model = request.group_by() == v1::ANALYTICS_GROUP_BY_MODEL;
  const int64_t bucket = request.bucket() == v1::ANALYTICS_BUCKET_MINUTE ? kMinute
                         : request.bucket() == v1::ANALYTICS_BUCKET_HOUR ? kHour
                         : request.bucket() == v1::ANALYTICS_BUCKET_DAY  ? kDay
                                                                         : 0;
  auto expected = BruteForce(rows, from, to, by_model, bucket);
  if (request.has_model_id()) {
    for (auto it = expected.begin(); it != expected.end();) {
      it = it->first.second == std::to_string(request.model_id()) ? std::next(it)
                                                                  : expected.erase(it);
    }
  }
  REQUIRE(static_cast<size_t>(response.rows_size()) == expected.size());
  for (const auto& row : response.rows()) {
    const int64_t b = row.has_bucket_start() ? Us(row.bucket_start()) : 0;
    const std::string key = by_model ? std::to_string(row.model_id()) : row.task_type();
    INFO("bucket " << b << " key " << key);
    REQUIRE(expected.count({b, key}) == 1);
    const Expected& e = expected[{b, key}];
    CHECK(row.count() == e.count);
    CHECK(row.avg_duration_ms() ==
          static_cast<double>(e.duration_sum) / 1000.0 / static_cast<double>(e.count));
    CHECK(row.confidence_count() == e.confidence_count);
    if (e.confidence_count > 0) {
      CHECK(row.avg_confidence() == static_cast<double>(e.confidence_nanos) / 1e9 /
                                        static_cast<double>(e.confidence_count));
    }
    CHECK(row.input_tokens() == e.input_tokens);
    CHECK(row.output_tokens() == e.output_tokens);
    const std::pair<double, double> quantiles[] = {
        {0.5, row.p50_duration_ms()}, {0.95, row.p95_duration_ms()}, {0.99, row.p99_duration_ms()}};
    for (const auto& [q, estimate] : quantiles) {
      const double exact = ExactQuantile(e.durations_ms, q);
      INFO("q " << q << " exact " << exact << " estimate " << estimate);
      CHECK(std::abs(estimate - exact) <= 0.01 * exact + 1e-9);
    }
  }
  // Sorted by the column (count, descending by default) within each bucket.
  for (int i = 1; i < response.rows_size(); ++i) {
    const auto& a = response.rows(i - 1);
    const auto& b = response.rows(i);
    if (Us(a.bucket_start()) == Us(b.bucket_start()) &&
        request.sort_by() == v1::ANALYTICS_SORT_BY_COUNT && !request.ascending()) {
      CHECK(a.count() >= b.count());
    }
  }
}

// Rows spread over 5 hours starting at an hour boundary 3 days ago: three
// models and rows without a model, three task types, some rows exactly on
// minute and hour boundaries, a third without a confidence.
std::vector<Row> MakeRows(const std::vector<uint64_t>& models, int64_t base, int n, uint32_t seed,
                          int64_t span = 5 * kHour) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> offset(0, span - 1);
  std::lognormal_distribution<double> duration(4.0, 1.0);
  const char* tasks[] = {"chat", "embeddings", "text_completion"};
  std::vector<Row> rows;
  for (int i = 0; i < n; ++i) {
    Row row;
    row.model_id = models[static_cast<size_t>(i) % models.size()];
    row.task = tasks[(i / 2) % 3];
    row.start_us = base + offset(rng);
    if (i % 17 == 0) row.start_us = base + (i % 5) * kHour;            // hour boundaries
    if (i % 13 == 0) row.start_us = row.start_us / kMinute * kMinute;  // minute boundaries
    row.duration_us = 1 + static_cast<int64_t>(duration(rng) * 1000);
    if (i % 3 != 0) row.confidence = static_cast<double>(i % 1000) / 1000.0;
    row.input_tokens = i % 50;
    row.output_tokens = (i * 7) % 300;
    rows.push_back(row);
  }
  return rows;
}

void LogAll(Client& client, const std::vector<Row>& rows) {
  // Half one by one, half as streams of 40.
  std::vector<v1::LogInferenceRequest> batch;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i % 2 == 0) {
      Log(client, ToRequest(rows[i]));
      continue;
    }
    batch.push_back(ToRequest(rows[i]));
    if (batch.size() == 40 || i + 1 >= rows.size()) {
      v1::LogInferencesResponse response;
      grpc::Status status = client.LogInferences(batch, &response);
      INFO(status.error_message());
      REQUIRE(status.ok());
      CHECK(response.logged() == batch.size());
      batch.clear();
    }
  }
  if (!batch.empty()) {
    v1::LogInferencesResponse response;
    REQUIRE(client.LogInferences(batch, &response).ok());
  }
}

std::vector<uint64_t> ListIds(Client& client, v1::ListInferencesRequest request) {
  std::vector<uint64_t> ids;
  REQUIRE(client
              .ListInferences(request,
                              [&](const v1::Inference& inference) {
                                ids.push_back(inference.inference_id());
                                return true;
                              })
              .ok());
  return ids;
}

int64_t ToUs(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

v1::CheckConsistencyResponse CheckConsistency(Client& client) {
  v1::CheckConsistencyResponse response;
  const grpc::Status status = client.CheckConsistency(false, 0, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  for (const auto& m : response.mismatches()) {
    UNSCOPED_INFO(m.check() + " " + m.kind() + " [" + m.table() + "]");
  }
  return response;
}

void CheckInvalid(const grpc::Status& status, const std::string& part) {
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("inference: log with steps, texts and GenAI attributes, get, list newest first",
          "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "llama-test");
  const int64_t now = NowUs();

  v1::LogInferenceRequest request;
  request.set_input_text("What is the capital of France?");
  request.set_output_text("Paris.");
  request.add_input_vector(0.5f);
  request.add_input_vector(-1.25f);
  request.set_confidence(0.875);
  *request.mutable_start_time() = Ts(now - 2000000);
  *request.mutable_end_time() = Ts(now - 1500000);
  request.set_metadata(R"({"user":"u1"})");
  (*request.mutable_attributes())["gen_ai.operation.name"] = "chat";
  (*request.mutable_attributes())["gen_ai.request.model"] = "llama-test";
  (*request.mutable_attributes())["gen_ai.usage.input_tokens"] = "7";
  (*request.mutable_attributes())["gen_ai.usage.output_tokens"] = "2";
  (*request.mutable_attributes())["gen_ai.request.temperature"] = "0.7";
  (*request.mutable_attributes())["gen_ai.provider.name"] = "local";
  (*request.mutable_attributes())["app.tenant"] = "acme";
  for (int i : {2, 0, 1}) {
    auto* step = request.add_steps();
    step->set_step_index(i);
    step->set_step_name("step " + std::to_string(i));
    step->set_step_kind("layer");
    step->set_duration_ms(100 + i);
  }
  const uint64_t id = Log(client, request);

  v1::Inference got;
  REQUIRE(client.GetInference(id, &got).ok());
  CHECK(got.model_id() == model);
  CHECK(got.task_type() == "chat");
  CHECK(got.input_text() == "What is the capital of France?");
  CHECK(got.output_text() == "Paris.");
  CHECK(got.input_vector_size() == 2);
  CHECK(got.confidence() == 0.875);
  CHECK(got.duration_ms() == 500.0);
  CHECK(got.input_tokens() == 7);
  CHECK(got.output_tokens() == 2);
  CHECK(got.temperature() == 0.7);
  CHECK(got.provider() == "local");
  CHECK(got.attributes().size() == 1);
  CHECK(got.attributes().at("app.tenant") == "acme");
  REQUIRE(got.steps_size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(got.steps(i).step_index() == i);
  CHECK(got.steps(2).duration_ms() == 102.0);

  v1::Model m = GetModel(client, model);
  CHECK(m.usage_count() == 1);
  CHECK(m.average_inference_ms() == 500.0);
  CHECK(Us(m.last_used()) == now - 1500000);

  // The same prompt again is stored once: the same atom.
  v1::LogInferenceRequest again;
  again.set_model_id(model);
  again.set_task_type("chat");
  again.set_input_text("What is the capital of France?");
  again.set_duration_ms(3);
  *again.mutable_start_time() = Ts(now - 1000000);
  const uint64_t id2 = Log(client, again);
  v1::Inference got2;
  REQUIRE(client.GetInference(id2, &got2).ok());
  CHECK(got2.input_atom_id() == got.input_atom_id());
  v1::Atom atom;
  REQUIRE(client.GetAtom(got.input_atom_id(), false, &atom).ok());
  CHECK(atom.reference_count() == 2);

  // Rows without a model, other tasks; newest first by time, model and task.
  std::vector<uint64_t> all = {id, id2};
  for (int i = 0; i < 7; ++i) {
    v1::LogInferenceRequest r;
    r.set_task_type(i % 2 == 0 ? "embeddings" : "chat");
    r.set_duration_ms(1);
    *r.mutable_start_time() = Ts(now - 500000 + i);
    all.push_back(Log(client, r));
  }
  std::vector<uint64_t> newest(all.rbegin(), all.rend());
  v1::ListInferencesRequest list;
  list.set_page_size(3);
  CHECK(ListIds(client, list) == newest);
  list.set_model_id(model);
  CHECK(ListIds(client, list) == std::vector<uint64_t>{id2, id});
  list.set_model_id(0);
  CHECK(ListIds(client, list).size() == 7);
  list.clear_model_id();
  list.set_task_type("embeddings");
  CHECK(ListIds(client, list).size() == 4);
  list.set_task_type("chat");
  *list.mutable_start_time_to() = Ts(now - 500000);
  CHECK(ListIds(client, list) == std::vector<uint64_t>{id2, id});
  // A token reused with another filter is refused.
  v1::ListInferencesRequest first;
  first.set_page_size(1);
  v1::ListInferencesResponse page;
  REQUIRE(client.ListInferencesPage(first, &page).ok());
  REQUIRE(!page.next_page_token().empty());
  first.set_task_type("chat");
  first.set_page_token(page.next_page_token());
  CheckInvalid(client.ListInferencesPage(first, &page), "page_token");
  // GetInference of an unknown id.
  CHECK(client.GetInference(999999, &got).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("inference: analytics equal a brute force over the logged rows", "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  std::vector<uint64_t> models = {CreateModel(client, "a"), CreateModel(client, "b"),
                                  CreateModel(client, "c"), 0};
  const int64_t base = (NowUs() / kHour - 72) * kHour;
  const std::vector<Row> rows = MakeRows(models, base, 600, 42);
  LogAll(client, rows);

  v1::GetInferenceAnalyticsRequest request;  // default window: the last 7 days
  CheckAnalytics(client, rows, request);
  request.set_group_by(v1::ANALYTICS_GROUP_BY_TASK_TYPE);
  CheckAnalytics(client, rows, request);
  // Window edges inside hours: minute buckets at both ends, hours between.
  request.set_group_by(v1::ANALYTICS_GROUP_BY_MODEL);
  *request.mutable_from() = Ts(base + 37 * kMinute + 12345);
  *request.mutable_to() = Ts(base + 4 * kHour + 5 * kMinute + 59000000);
  CheckAnalytics(client, rows, request);
  request.set_group_by(v1::ANALYTICS_GROUP_BY_TASK_TYPE);
  CheckAnalytics(client, rows, request);
  // A window inside one hour: minutes only.
  *request.mutable_from() = Ts(base + 2 * kHour + 10 * kMinute);
  *request.mutable_to() = Ts(base + 2 * kHour + 50 * kMinute);
  CheckAnalytics(client, rows, request);
  // Exactly on hour boundaries.
  *request.mutable_from() = Ts(base + kHour);
  *request.mutable_to() = Ts(base + 3 * kHour);
  CheckAnalytics(client, rows, request);
  // Series: hour, minute and day buckets.
  request.set_group_by(v1::ANALYTICS_GROUP_BY_MODEL);
  *request.mutable_from() = Ts(base + 37 * kMinute);
  *request.mutable_to() = Ts(base + 4 * kHour + 5 * kMinute);
  request.set_bucket(v1::ANALYTICS_BUCKET_HOUR);
  CheckAnalytics(client, rows, request);
  request.set_bucket(v1::ANALYTICS_BUCKET_MINUTE);
  CheckAnalytics(client, rows, request);
  request.clear_from();
  request.clear_to();
  request.set_bucket(v1::ANALYTICS_BUCKET_DAY);
  CheckAnalytics(client, rows, request);
  // One model, and the rows without a model.
  request.set_bucket(v1::ANALYTICS_BUCKET_NONE);
  request.set_model_id(models[1]);
  CheckAnalytics(client, rows, request);
  request.set_model_id(0);
  CheckAnalytics(client, rows, request);
  // Sorted by p99 ascending: deterministic and ordered.
  request.clear_model_id();
  request.set_sort_by(v1::ANALYTICS_SORT_BY_P99);
  request.set_ascending(true);
  v1::GetInferenceAnalyticsResponse one, two;
  REQUIRE(client.GetInferenceAnalytics(request, &one).ok());
  REQUIRE(client.GetInferenceAnalytics(request, &two).ok());
  CHECK(one.SerializeAsString() == two.SerializeAsString());
  for (int i = 1; i < one.rows_size(); ++i) {
    CHECK(one.rows(i - 1).p99_duration_ms() <= one.rows(i).p99_duration_ms());
  }
  // Usage counters of each model: its rows, exactly.
  for (uint64_t model : models) {
    if (model == 0) continue;
    uint64_t count = 0;
    int64_t last = 0;
    for (const Row& row : rows) {
      if (row.model_id != model) continue;
      ++count;
      last = std::max(last, row.start_us + row.duration_us);
    }
    v1::Model m = GetModel(client, model);
    CHECK(m.usage_count() == count);
    CHECK(Us(m.last_used()) == last);
  }
}

TEST_CASE("inference: analytics over days combine every bucket length exactly", "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  std::vector<uint64_t> models = {CreateModel(client, "a"), 0};
  const int64_t base = (NowUs() / kDay - 5) * kDay;
  const std::vector<Row> rows = MakeRows(models, base, 800, 77, 4 * kDay);
  LogAll(client, rows);
  v1::GetInferenceAnalyticsRequest request;
  // Edges at odd minutes: minutes, 10 minutes, hours and 6 hours rising to
  // whole days, and falling again.
  for (const auto& [from, to] : std::vector<std::pair<int64_t, int64_t>>{
           {base + 7 * kMinute + 5, base + 3 * kDay + 19 * kHour + 43 * kMinute},
           {base + 5 * kHour + 3 * kMinute, base + kDay + 6 * kHour},
           {base + kDay, base + 3 * kDay},
           {base + 23 * kHour + 59 * kMinute, base + kDay + kMinute}}) {
    *request.mutable_from() = Ts(from);
    *request.mutable_to() = Ts(to);
    for (auto bucket :
         {v1::ANALYTICS_BUCKET_NONE, v1::ANALYTICS_BUCKET_HOUR, v1::ANALYTICS_BUCKET_DAY}) {
      request.set_bucket(bucket);
      request.set_group_by(v1::ANALYTICS_GROUP_BY_MODEL);
      CheckAnalytics(client, rows, request);
      request.set_group_by(v1::ANALYTICS_GROUP_BY_TASK_TYPE);
      CheckAnalytics(client, rows, request);
    }
  }
}

TEST_CASE("inference: usage counters are exact under concurrent logging", "[inference]") {
  Daemon daemon;
  const uint64_t a = CreateModel(daemon.client(), "a");
  const uint64_t b = CreateModel(daemon.client(), "b");
  constexpr int kThreads = 6, kPerThread = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ClientOptions options;
      options.target = daemon.address();
      options.own_connection = true;
      Client client(options);
      for (int i = 0; i < kPerThread; ++i) {
        v1::LogInferenceRequest r;
        r.set_model_id(i % 2 == 0 ? a : b);
        r.set_task_type("chat");
        r.set_duration_ms(i % 2 == 0 ? 10 : 30);
        r.set_input_text("prompt " + std::to_string(i % 5));
        if (i % 4 == 3) {
          v1::LogInferencesResponse response;
          if (!client.LogInferences({r, r}, &response).ok()) ++failures;
        } else {
          v1::LogInferenceResponse response;
          if (!client.LogInference(r, &response).ok()) ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(failures == 0);
  // Per thread: 20 rows of model a; model b's 20 iterations include 10
  // streams of two, so 30 rows.
  v1::Model ma = GetModel(daemon.client(), a);
  v1::Model mb = GetModel(daemon.client(), b);
  CHECK(ma.usage_count() == kThreads * 20);
  CHECK(mb.usage_count() == kThreads * 30);
  CHECK(ma.average_inference_ms() == Approx(10.0));
  CHECK(mb.average_inference_ms() == Approx(30.0));
  v1::GetInferenceAnalyticsRequest request;
  v1::GetInferenceAnalyticsResponse response;
  REQUIRE(daemon.client().GetInferenceAnalytics(request, &response).ok());
  uint64_t total = 0;
  for (const auto& row : response.rows()) total += row.count();
  CHECK(total == ma.usage_count() + mb.usage_count());
  // Shared prompts are five atoms, referenced once per logged row.
  uint64_t references = 0;
  for (int p = 0; p < 5; ++p) {
    v1::Atom atom;
    REQUIRE(
        daemon.client().GetAtomByHash(Sha256Hex("prompt " + std::to_string(p)), false, &atom).ok());
    references += atom.reference_count();
  }
  CHECK(references == total);
}

TEST_CASE("inference: pruning keeps aggregates equal to a recomputation and releases texts",
          "[inference]") {
  // One segment, rows logged in random time order (pruned row by row), or
  // segments of about 100 rows logged in time order (most emptied whole).
  const bool segmented = GENERATE(false, true);
  INFO((segmented ? "segments of 100 rows" : "one segment"));
  Daemon::Options options;
  options.extra_args = {"--inference-segment-rows", segmented ? "100" : "65536"};
  Daemon daemon(options);
  Client& client = daemon.client();
  std::vector<uint64_t> models = {CreateModel(client, "a"), 0};
  const int64_t base = (NowUs() / kHour - 50) * kHour;
  std::vector<Row> rows = MakeRows(models, base, 5000, 9);
  if (segmented) {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.start_us < b.start_us; });
  }
  // Stream in batches of 500.
  for (size_t i = 0; i < rows.size(); i += 500) {
    std::vector<v1::LogInferenceRequest> batch;
    for (size_t j = i; j < i + 500; ++j) {
      batch.push_back(ToRequest(rows[j]));
      batch.back().set_input_text("text " + std::to_string(j % 700));
    }
    v1::LogInferencesResponse response;
    REQUIRE(client.LogInferences(batch, &response).ok());
  }
  const int64_t cut = base + 2 * kHour + 17 * kMinute + 333;
  v1::PruneInferencesRequest prune;
  *prune.mutable_older_than() = Ts(cut);
  v1::PruneInferencesResponse pruned;
  REQUIRE(client.PruneInferences(prune, &pruned).ok());
  std::vector<Row> rest;
  std::set<size_t> kept_texts;
  for (size_t j = 0; j < rows.size(); ++j) {
    if (rows[j].start_us >= cut) {
      rest.push_back(rows[j]);
      kept_texts.insert(j % 700);
    }
  }
  CHECK(pruned.inferences_deleted() == rows.size() - rest.size());
  CHECK(pruned.batches() >= 2);
  CHECK(pruned.atoms_released() == pruned.inferences_deleted());
  v1::GetInferenceAnalyticsRequest request;
  CheckAnalytics(client, rest, request);
  request.set_group_by(v1::ANALYTICS_GROUP_BY_TASK_TYPE);
  request.set_bucket(v1::ANALYTICS_BUCKET_HOUR);
  CheckAnalytics(client, rest, request);
  request.set_bucket(v1::ANALYTICS_BUCKET_MINUTE);
  *request.mutable_from() = Ts(base);
  *request.mutable_to() = Ts(base + 5 * kHour);
  CheckAnalytics(client, rest, request);
  // Only the rest is listed, newest first across segments.
  v1::ListInferencesRequest list;
  list.set_page_size(1000);
  std::vector<int64_t> starts;
  REQUIRE(client
              .ListInferences(list,
                              [&](const v1::Inference& inference) {
                                starts.push_back(ToUs(inference.start_time()));
                                return true;
                              })
              .ok());
  CHECK(starts.size() == rest.size());
  CHECK(std::is_sorted(starts.rbegin(), starts.rend()));
  if (!starts.empty()) CHECK(starts.back() >= cut);
  const v1::CheckConsistencyResponse consistency = CheckConsistency(client);
  CHECK(consistency.mismatches_size() == 0);
  // A text no remaining row holds is released (inactive); a kept one is not.
  for (size_t t : {size_t{0}, size_t{1}, size_t{699}}) {
    v1::Atom atom;
    REQUIRE(client.GetAtomByHash(Sha256Hex("text " + std::to_string(t)), false, &atom).ok());
    CHECK(atom.is_active() == (kept_texts.count(t) == 1));
  }
  // Pruning everything leaves no aggregate.
  *prune.mutable_older_than() = Ts(NowUs());
  REQUIRE(client.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.inferences_deleted() == rest.size());
  v1::GetInferenceAnalyticsResponse response;
  REQUIRE(client.GetInferenceAnalytics(v1::GetInferenceAnalyticsRequest(), &response).ok());
  CHECK(response.rows_size() == 0);
  CHECK(response.aggregate_rows_read() == 0);
}

TEST_CASE("inference: texts repeated in a stream and in a prune batch are counted exactly",
          "[inference]") {
  // One segment, or segments of about 100 rows (most emptied whole).
  const bool segmented = GENERATE(false, true);
  INFO((segmented ? "segments of 100 rows" : "one segment"));
  Daemon::Options options;
  options.extra_args = {"--inference-segment-rows", segmented ? "100" : "65536"};
  Daemon daemon(options);
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m");
  const int64_t base = (NowUs() / kHour - 10) * kHour;
  // Three streams of 300 rows: 3 system prompts and 40 answers repeat
  // within each stream; a few rows have no output text.
  auto prompt = [](int j) { return "system prompt " + std::to_string(j % 3); };
  auto answer = [](int j) { return "answer " + std::to_string(j % 40); };
  auto has_answer = [](int j) { return j % 11 != 0; };
  constexpr int kRows = 900;
  for (int first = 0; first < kRows; first += 300) {
    std::vector<v1::LogInferenceRequest> batch;
    for (int j = first; j < first + 300; ++j) {
      v1::LogInferenceRequest r;
      r.set_model_id(model);
      r.set_duration_ms(1 + j % 7);
      *r.mutable_start_time() = Ts(base + j * kMinute / 4);
      r.set_input_text(prompt(j));
      if (has_answer(j)) r.set_output_text(answer(j));
      r.set_request_id("req-" + std::to_string(j));
      batch.push_back(r);
    }
    v1::LogInferencesResponse response;
    REQUIRE(client.LogInferences(batch, &response).ok());
    CHECK(response.logged() == 300);
    // A retry of the whole stream logs nothing and counts no reference.
    REQUIRE(client.LogInferences(batch, &response).ok());
    CHECK(response.already_logged() == 300);
  }
  // The references each text should hold: rows with start >= cut that use it.
  auto expect = [&](int64_t cut) {
    std::map<std::string, int64_t> held;
    for (int j = 0; j < kRows; ++j) {
      if (base + j * kMinute / 4 < cut) continue;
      ++held[prompt(j)];
      if (has_answer(j)) ++held[answer(j)];
    }
    for (int j = 0; j < 40; ++j) held.emplace(answer(j), 0);
    return held;
  };
  auto check = [&](int64_t cut) {
    for (const auto& [text, references] : expect(cut)) {
      INFO(text);
      v1::Atom atom;
      REQUIRE(client.GetAtomByHash(Sha256Hex(text), false, &atom).ok());
      CHECK(atom.is_active() == (references > 0));
      if (references > 0) CHECK(atom.reference_count() == references);
    }
  };
  check(0);
  CHECK(GetModel(client, model).usage_count() == kRows);
  // Prune a part, then the rest: batches of many rows per text.
  const int64_t cut = base + 613 * kMinute / 4 + 1;
  v1::PruneInferencesRequest prune;
  *prune.mutable_older_than() = Ts(cut);
  v1::PruneInferencesResponse pruned;
  REQUIRE(client.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.inferences_deleted() == 614);
  uint64_t references = 0;
  for (int j = 0; j < 614; ++j) references += has_answer(j) ? 2 : 1;
  CHECK(pruned.atoms_released() == references);
  check(cut);
  CHECK(CheckConsistency(client).mismatches_size() == 0);
  // A pruned row's request_id is free again; a kept row's still answers.
  {
    v1::LogInferenceRequest retry;
    retry.set_model_id(model);
    *retry.mutable_start_time() = Ts(NowUs());
    retry.set_duration_ms(1);
    retry.set_request_id("req-899");
    bool already = false;
    Log(client, retry, &already);
    CHECK(already);
    retry.set_request_id("req-0");
    Log(client, retry, &already);
    CHECK(!already);
  }
  *prune.mutable_older_than() = Ts(NowUs());
  REQUIRE(client.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.inferences_deleted() == kRows - 614 + 1);  // with the re-logged req-0
  check(std::numeric_limits<int64_t>::max());
}

namespace {

uint64_t TableEntries(Client& client, const std::string& table) {
  grpc::ClientContext context;
  v1::ServerStats stats;
  const grpc::Status status = client.admin().GetStats(&context, v1::GetStatsRequest(), &stats);
  INFO(status.error_message());
  REQUIRE(status.ok());
  for (const auto& t : stats.tables()) {
    if (t.name() == table) return t.entries();
  }
  FAIL("no table " << table);
  return 0;
}

// After a prune that kept the rows from `kept` of `rows` logged in order,
// row j with text(j) and request id "req-j" (some rows): each text in
// `sampled` holds one reference per kept row of its text (texts repeat
// every `period` rows); a pruned request id, logged again, is stored anew,
// a kept one is found; nothing is left queued and the store is consistent.
void CheckAfterPrune(Client& client, uint64_t model, const std::function<std::string(int)>& text,
                     int period, std::initializer_list<int> sampled, int kept, int rows,
                     int pruned_request) {
  for (int k : sampled) {
    int64_t held = 0;
    for (int j = kept; j < rows; ++j) held += j % period == k ? 1 : 0;
    v1::Atom atom;
    REQUIRE(client.GetAtomByHash(Sha256Hex(text(k)), false, &atom).ok());
    CHECK(atom.reference_count() == held);
  }
  v1::LogInferenceRequest retry;
  retry.set_model_id(model);
  *retry.mutable_start_time() = Ts(NowUs());
  retry.set_duration_ms(1);
  bool already = false;
  retry.set_request_id("req-" + std::to_string(pruned_request));
  Log(client, retry, &already);
  CHECK(!already);
  retry.set_request_id("req-" + std::to_string(kept));
  Log(client, retry, &already);
  CHECK(already);
  CHECK(TableEntries(client, "atom_pending_releases") == 0);
  CHECK(CheckConsistency(client).mismatches_size() == 0);
}

}  // namespace

TEST_CASE("inference: a prune killed while it empties segments is finished by the next prune",
          "[inference][durability]") {
  Daemon::Options options;
  options.extra_args = {"--inference-segment-rows", "200"};
  Daemon daemon(options);
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m");
  const int64_t base = (NowUs() / kHour - 30) * kHour;
  constexpr int kRows = 20000;
  // 20 hours of rows in time order; 300 prompts; every third row retryable.
  auto text = [](int j) { return "prompt " + std::to_string(j % 300); };
  std::vector<Row> rows;
  for (int first = 0; first < kRows; first += 500) {
    std::vector<v1::LogInferenceRequest> batch;
    for (int j = first; j < first + 500; ++j) {
      Row row;
      row.model_id = model;
      row.task = j % 2 == 0 ? "chat" : "embeddings";
      row.start_us = base + int64_t{j} * 20 * kHour / kRows;
      row.duration_us = 1000 + j % 977;
      row.input_tokens = j % 40;
      rows.push_back(row);
      batch.push_back(ToRequest(row));
      batch.back().set_input_text(text(j));
      if (j % 3 == 0) batch.back().set_request_id("req-" + std::to_string(j));
    }
    v1::LogInferencesResponse response;
    REQUIRE(client.LogInferences(batch, &response).ok());
  }
  const uint64_t segments = TableEntries(client, "inference_segments");
  REQUIRE(segments >= 20);
  // Kill the daemon once the prune has emptied its first segment.
  constexpr int kKept = 15000;
  const int64_t cut = rows[kKept].start_us;
  v1::PruneInferencesRequest prune;
  *prune.mutable_older_than() = Ts(cut);
  grpc::Status first_prune;
  std::atomic<bool> returned{false};
  std::thread pruner([&] {
    ClientOptions own;
    own.target = daemon.address();
    Client other(own);
    v1::PruneInferencesResponse ignored;
    first_prune = other.PruneInferences(prune, &ignored);
    returned = true;
  });
  while (!returned && TableEntries(client, "inference_segments") >= segments) {
  }
  daemon.Kill9();
  pruner.join();
  INFO("first prune: " << first_prune.error_message());
  daemon.Start();
  Client& restarted = daemon.client();
  CHECK(CheckConsistency(restarted).mismatches_size() == 0);
  // The next prune finishes the work; the result is the one of one prune.
  v1::PruneInferencesResponse pruned;
  REQUIRE(restarted.PruneInferences(prune, &pruned).ok());
  const std::vector<Row> rest(rows.begin() + kKept, rows.end());
  v1::GetInferenceAnalyticsRequest request;
  *request.mutable_from() = Ts(base);
  *request.mutable_to() = Ts(base + 21 * kHour);
  CheckAnalytics(restarted, rest, request);
  request.set_group_by(v1::ANALYTICS_GROUP_BY_TASK_TYPE);
  request.set_bucket(v1::ANALYTICS_BUCKET_MINUTE);
  CheckAnalytics(restarted, rest, request);
  v1::ListInferencesRequest list;
  list.set_page_size(1000);
  CHECK(ListIds(restarted, list).size() == rest.size());
  CheckAfterPrune(restarted, model, text, 300, {0, 1, 299}, kKept, kRows, 0);
}

TEST_CASE("inference: a prune stopped after any write step leaves consistent state",
          "[inference][durability]") {
  // Every prune call stops after one committed write step, as a crash
  // there would: the calls walk through every state a prune passes, each
  // one starting from what the last left on disk.
  Daemon::Options options;
  options.extra_args = {"--inference-segment-rows", "100", "--testing-prune-stop-after", "1"};
  Daemon daemon(options);
  Client& client = daemon.client();
  const std::vector<uint64_t> models = {CreateModel(client, "a"), CreateModel(client, "b")};
  const int64_t base = (NowUs() / kHour - 60) * kHour;
  constexpr int kRows = 6000;
  // Two rows a minute in time order, each with a request id and a text of
  // 400.
  auto text = [](int j) { return "question " + std::to_string(j % 400); };
  std::vector<Row> rows = MakeRows(models, base, kRows, 21);
  for (int j = 0; j < kRows; ++j) rows[static_cast<size_t>(j)].start_us = base + j * kMinute / 2;
  for (int first = 0; first < kRows; first += 500) {
    std::vector<v1::LogInferenceRequest> batch;
    for (int j = first; j < first + 500; ++j) {
      batch.push_back(ToRequest(rows[static_cast<size_t>(j)]));
      batch.back().set_input_text(text(j));
      batch.back().set_request_id("req-" + std::to_string(j));
    }
    v1::LogInferencesResponse response;
    REQUIRE(client.LogInferences(batch, &response).ok());
  }
  constexpr int kKept = 4321;
  const int64_t cut = rows[kKept].start_us;
  v1::PruneInferencesRequest prune;
  *prune.mutable_older_than() = Ts(cut);
  v1::GetInferenceAnalyticsRequest analytics;
  *analytics.mutable_from() = Ts(base);
  *analytics.mutable_to() = Ts(base + 51 * kHour);
  analytics.set_group_by(v1::ANALYTICS_GROUP_BY_TASK_TYPE);
  analytics.set_bucket(v1::ANALYTICS_BUCKET_HOUR);
  int stops = 0;
  while (true) {
    v1::PruneInferencesResponse pruned;
    const grpc::Status status = client.PruneInferences(prune, &pruned);
    if (status.ok()) break;
    INFO(status.error_message());
    REQUIRE(status.error_code() == grpc::StatusCode::ABORTED);
    REQUIRE(++stops < 1000);
    // The rows a reader sees are what the aggregates count.
    std::vector<Row> visible;
    v1::ListInferencesRequest list;
    list.set_page_size(1000);
    REQUIRE(client
                .ListInferences(list,
                                [&](const v1::Inference& inference) {
                                  Row row;
                                  row.model_id = inference.model_id();
                                  row.task = inference.task_type();
                                  row.start_us = ToUs(inference.start_time());
                                  row.duration_us = std::llround(inference.duration_ms() * 1000);
                                  if (inference.has_confidence()) {
                                    row.confidence = inference.confidence();
                                  }
                                  row.input_tokens = inference.input_tokens();
                                  row.output_tokens = inference.output_tokens();
                                  visible.push_back(row);
                                  return true;
                                })
                .ok());
    CheckAnalytics(client, visible, analytics);
    CHECK(CheckConsistency(client).mismatches_size() == 0);
  }
  // Segments emptied whole (several steps each), rows deleted one by one,
  // queued texts released: many stops.
  CHECK(stops >= 20);
  const std::vector<Row> rest(rows.begin() + kKept, rows.end());
  CheckAnalytics(client, rest, analytics);
  analytics.set_group_by(v1::ANALYTICS_GROUP_BY_MODEL);
  analytics.set_bucket(v1::ANALYTICS_BUCKET_MINUTE);
  CheckAnalytics(client, rest, analytics);
  v1::ListInferencesRequest list;
  list.set_page_size(1000);
  CHECK(ListIds(client, list).size() == rest.size());
  CheckAfterPrune(client, models[0], text, 400, {0, 7, 399}, kKept, kRows, kKept - 1);
}

TEST_CASE("inference: a request_id makes retries idempotent", "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m");
  v1::LogInferenceRequest r;
  r.set_model_id(model);
  r.set_duration_ms(5);
  r.set_input_text("hello");
  r.set_request_id("req-42");
  bool already = true;
  const uint64_t id = Log(client, r, &already);
  CHECK(!already);
  CHECK(Log(client, r, &already) == id);
  CHECK(already);
  // In a stream too, and a stream that repeats an id logs it once.
  v1::LogInferenceRequest other = r;
  other.set_request_id("req-43");
  v1::LogInferencesResponse response;
  REQUIRE(client.LogInferences({r, other, other}, &response).ok());
  CHECK(response.logged() == 1);
  CHECK(response.already_logged() == 2);
  CHECK(response.inference_ids(0) == id);
  CHECK(response.inference_ids(1) == response.inference_ids(2));
  CHECK(GetModel(client, model).usage_count() == 2);
  v1::Atom atom;
  REQUIRE(client.GetAtomByHash(Sha256Hex("hello"), false, &atom).ok());
  CHECK(atom.reference_count() == 2);
}

TEST_CASE("inference: bad input is INVALID_ARGUMENT naming the field, nothing stored",
          "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m");
  auto valid = [&] {
    v1::LogInferenceRequest r;
    r.set_model_id(model);
    r.set_duration_ms(1);
    return r;
  };
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    const char* name;
    std::function<void(v1::LogInferenceRequest&)> change;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"confidence NaN", [&](auto& r) { r.set_confidence(nan); }, "confidence"},
      {"confidence Inf", [&](auto& r) { r.set_confidence(inf); }, "confidence"},
      {"confidence above 1", [](auto& r) { r.set_confidence(1.5); }, "confidence"},
      {"confidence negative", [](auto& r) { r.set_confidence(-0.1); }, "confidence"},
      {"temperature NaN", [&](auto& r) { r.set_temperature(nan); }, "temperature"},
      {"temperature Inf", [&](auto& r) { r.set_temperature(inf); }, "temperature"},
      {"temperature negative", [](auto& r) { r.set_temperature(-1); }, "temperature"},
      {"end before start",
       [](auto& r) {
         *r.mutable_start_time() = Ts(2000000000);
         *r.mutable_end_time() = Ts(1000000000);
       },
       "end_time"},
      {"negative duration", [](auto& r) { r.set_duration_ms(-1); }, "duration_ms"},
      {"NaN duration", [&](auto& r) { r.set_duration_ms(nan); }, "duration_ms"},
      {"no duration and no end", [](auto& r) { r.clear_duration_ms(); }, "duration_ms"},
      {"negative input tokens", [](auto& r) { r.set_input_tokens(-1); }, "input_tokens"},
      {"negative output tokens", [](auto& r) { r.set_output_tokens(-5); }, "output_tokens"},
      {"before 1970", [](auto& r) { r.mutable_start_time()->set_seconds(-10); }, "start_time"},
      {"far in the future", [](auto& r) { *r.mutable_start_time() = Ts(NowUs() + 400 * kDay); },
       "start_time"},
      {"metadata not JSON", [](auto& r) { r.set_metadata("{not json"); }, "metadata"},
      {"metadata too large",
       [](auto& r) { r.set_metadata("{\"a\":\"" + std::string(70000, 'x') + "\"}"); }, "metadata"},
      {"metadata too deep",
       [](auto& r) { r.set_metadata(std::string(70, '[') + std::string(70, ']')); }, "metadata"},
      {"input text not UTF-8", [](auto& r) { r.set_input_text("bad \xff\xfe"); }, "input_text"},
      {"output text too large", [](auto& r) { r.set_output_text(std::string((1 << 20) + 1, 'a')); },
       "output_text"},
      {"input vector NaN", [&](auto& r) { r.add_input_vector(static_cast<float>(nan)); },
       "input_vector[0]"},
      {"input vector Inf",
       [&](auto& r) {
         r.add_input_vector(1);
         r.add_input_vector(static_cast<float>(inf));
       },
       "input_vector[1]"},
      {"duplicate step index",
       [](auto& r) {
         r.add_steps()->set_step_index(1);
         r.add_steps()->set_step_index(1);
       },
       "steps[1].step_index"},
      {"negative step index", [](auto& r) { r.add_steps()->set_step_index(-1); },
       "steps[0].step_index"},
      {"negative step duration", [](auto& r) { r.add_steps()->set_duration_ms(-2); },
       "steps[0].duration_ms"},
      {"bad task type", [](auto& r) { r.set_task_type("no spaces allowed"); }, "task_type"},
      {"GenAI attribute not a number",
       [](auto& r) { (*r.mutable_attributes())["gen_ai.usage.input_tokens"] = "many"; },
       "attributes[gen_ai.usage.input_tokens]"},
      {"GenAI attribute disagrees",
       [](auto& r) {
         r.set_temperature(0.2);
         (*r.mutable_attributes())["gen_ai.request.temperature"] = "0.9";
       },
       "attributes[gen_ai.request.temperature]"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    v1::LogInferenceRequest r = valid();
    c.change(r);
    v1::LogInferenceResponse response;
    CheckInvalid(client.LogInference(r, &response), c.field);
    // The same in a stream, after a good message: nothing is stored.
    v1::LogInferencesResponse stream_response;
    grpc::Status status = client.LogInferences({valid(), r}, &stream_response);
    CheckInvalid(status, std::string("inferences[1].") + c.field);
  }
  v1::LogInferenceRequest unknown = valid();
  unknown.set_model_id(424242);
  v1::LogInferenceResponse response;
  grpc::Status status = client.LogInference(unknown, &response);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(status.error_message().find("model_id") != std::string::npos);
  unknown.set_model_id(0);
  unknown.set_model_name("no-such-model");
  CHECK(client.LogInference(unknown, &response).error_code() == grpc::StatusCode::NOT_FOUND);
  v1::LogInferencesResponse stream_response;
  CHECK(client.LogInferences({valid(), unknown}, &stream_response).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  // Nothing was stored by any of them.
  CHECK(ListIds(client, v1::ListInferencesRequest()).empty());
  CHECK(GetModel(client, model).usage_count() == 0);
}

TEST_CASE("inference: a cancelled LogInferences stream stores nothing", "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m");
  {
    grpc::ClientContext context;
    v1::LogInferencesResponse response;
    auto writer = client.inference().LogInferences(&context, &response);
    for (int i = 0; i < 50; ++i) {
      v1::LogInferenceRequest r;
      r.set_model_id(model);
      r.set_duration_ms(1);
      REQUIRE(writer->Write(r));
    }
    context.TryCancel();
    CHECK(writer->Finish().error_code() == grpc::StatusCode::CANCELLED);
  }
  // A later request sees nothing of it (the daemon has handled the cancel
  // once a new call on the same connection is answered after it).
  v1::LogInferenceRequest r;
  r.set_model_id(model);
  r.set_duration_ms(1);
  Log(client, r);
  CHECK(ListIds(client, v1::ListInferencesRequest()).size() == 1);
  CHECK(GetModel(client, model).usage_count() == 1);
}

TEST_CASE("inference: cached activations keep the layer's statistics and go with the model",
          "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m", 2);
  v1::GetLayerRequest get_layer;
  get_layer.set_model_id(model);
  get_layer.set_layer_idx(1);
  v1::ModelLayer layer;
  REQUIRE(client.GetLayer(get_layer, &layer).ok());

  const std::string hash(32, '\x11');
  v1::PutActivationRequest put;
  put.set_layer_id(layer.layer_id());
  put.set_input_hash(hash);
  put.add_shape(2);
  put.add_shape(3);
  put.set_dtype("F32");
  put.set_data(std::string(24, 'x'));
  put.set_compute_time_ms(4);
  v1::PutActivationResponse put_response;
  REQUIRE(client.PutActivation(put, &put_response).ok());
  put.set_input_hash(std::string(32, '\x22'));
  put.set_compute_time_ms(8);
  REQUIRE(client.PutActivation(put, &put_response).ok());
  CHECK(put_response.avg_compute_time_ms() == 6.0);

  v1::GetActivationRequest get;
  get.set_layer_id(layer.layer_id());
  get.set_input_hash(hash);
  v1::GetActivationResponse got;
  REQUIRE(client.GetActivation(get, &got).ok());
  CHECK(got.found());
  CHECK(got.data() == std::string(24, 'x'));
  CHECK(got.cache_hit_rate() == 1.0);
  get.set_input_hash(std::string(32, '\x33'));
  REQUIRE(client.GetActivation(get, &got).ok());
  CHECK(!got.found());
  CHECK(got.cache_hit_rate() == 0.5);
  REQUIRE(client.GetLayer(get_layer, &layer).ok());
  CHECK(layer.cache_hit_rate() == 0.5);
  CHECK(layer.avg_compute_time_ms() == 6.0);

  // Bad input.
  v1::PutActivationRequest bad = put;
  bad.set_input_hash("short");
  CheckInvalid(client.PutActivation(bad, &put_response), "input_hash");
  bad = put;
  bad.set_shape(1, 4);
  CheckInvalid(client.PutActivation(bad, &put_response), "shape");
  bad = put;
  bad.set_dtype("F16");
  CheckInvalid(client.PutActivation(bad, &put_response), "dtype");
  bad = put;
  bad.set_data("short");
  CheckInvalid(client.PutActivation(bad, &put_response), "data");
  bad = put;
  bad.set_layer_id(999999);
  CHECK(client.PutActivation(bad, &put_response).error_code() == grpc::StatusCode::NOT_FOUND);
  get.set_layer_id(999999);
  CHECK(client.GetActivation(get, &got).error_code() == grpc::StatusCode::NOT_FOUND);

  // Deleting the model deletes its activations.
  v1::DeleteModelRequest del;
  del.set_model_id(model);
  v1::DeleteModelResponse deleted;
  REQUIRE(client.DeleteModel(del, &deleted).ok());
  get.set_layer_id(layer.layer_id());
  get.set_input_hash(hash);
  CHECK(client.GetActivation(get, &got).error_code() == grpc::StatusCode::NOT_FOUND);
  // No row of the layer is left in the tables.
  REQUIRE(daemon.Stop() == 0);
  const StoppedStore store = OpenStopped(daemon.data_dir());
  storage::ReadTxn txn(*store.env);
  for (MDB_dbi dbi : {store.tables.cached_activations, store.tables.activation_stats}) {
    auto rows = txn.Count(dbi);
    REQUIRE(rows.ok());
    CHECK(*rows == 0);
  }
}

TEST_CASE("inference: acknowledged logs survive kill -9 and restart", "[inference][durability]") {
  Daemon daemon;
  const uint64_t model = CreateModel(daemon.client(), "m");
  std::mutex mu;
  std::map<std::string, uint64_t> acked;  // request_id -> inference_id
  KillDuringWrites(daemon, 3, 60, [&](int w, Client& client, const std::function<void()>& ack) {
    for (int i = 0;; ++i) {
      v1::LogInferenceRequest r;
      r.set_model_id(model);
      r.set_duration_ms(2);
      r.set_input_text("w" + std::to_string(w) + " prompt " + std::to_string(i));
      r.set_request_id("w" + std::to_string(w) + "-" + std::to_string(i));
      v1::LogInferenceResponse response;
      if (!client.LogInference(r, &response).ok()) return;
      {
        std::lock_guard lock(mu);
        acked[r.request_id()] = response.inference_id();
      }
      ack();
    }
  });
  REQUIRE(acked.size() >= 60);
  Client& client = daemon.client();
  std::set<uint64_t> stored;
  v1::ListInferencesRequest list;
  list.set_page_size(1000);
  REQUIRE(client
              .ListInferences(list,
                              [&](const v1::Inference& inference) {
                                stored.insert(inference.inference_id());
                                return true;
                              })
              .ok());
  for (const auto& [request_id, id] : acked) {
    INFO(request_id);
    CHECK(stored.count(id) == 1);
    v1::Inference got;
    REQUIRE(client.GetInference(id, &got).ok());
    CHECK(got.request_id() == request_id);
  }
  // Usage and analytics count exactly the stored rows.
  CHECK(GetModel(client, model).usage_count() == stored.size());
  v1::GetInferenceAnalyticsResponse response;
  REQUIRE(client.GetInferenceAnalytics(v1::GetInferenceAnalyticsRequest(), &response).ok());
  REQUIRE(response.rows_size() == 1);
  CHECK(response.rows(0).count() == stored.size());
}

TEST_CASE("inference: references a stopped prune left queued are released by the next prune",
          "[inference][durability]") {
  Daemon daemon;
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m");
  const int64_t base = (NowUs() / kHour - 10) * kHour;
  // Two rows share a prompt; the first also has an answer of its own.
  uint64_t first = 0;
  for (int j = 0; j < 2; ++j) {
    v1::LogInferenceRequest r;
    r.set_model_id(model);
    r.set_duration_ms(3);
    *r.mutable_start_time() = Ts(base + j * kMinute);
    r.set_input_text("shared prompt");
    if (j == 0) r.set_output_text("first answer");
    const uint64_t id = Log(client, r);
    if (j == 0) first = id;
  }
  v1::Atom prompt, answer;
  REQUIRE(client.GetAtomByHash(Sha256Hex("shared prompt"), false, &prompt).ok());
  REQUIRE(client.GetAtomByHash(Sha256Hex("first answer"), false, &answer).ok());
  REQUIRE(prompt.reference_count() == 2);
  REQUIRE(answer.reference_count() == 1);
  // The state a prune stopped between its row batches and its releases
  // leaves: the first row deleted, its texts' references queued.
  REQUIRE(daemon.Stop() == 0);
  {
    const StoppedStore store = OpenStopped(daemon.data_dir());
    storage::WriteTxn txn(*store.env, nullptr);
    REQUIRE(txn.status().ok());
    auto rows = storage::InferenceTable::Open(txn, store.tables);
    REQUIRE(rows.ok());
    auto record = rows->Find(txn, first);
    REQUIRE(record.ok());
    REQUIRE(record->has_value());
    REQUIRE(rows->Remove(txn, **record).ok());
    const storage::PendingReleaseTable queue(store.tables);
    REQUIRE(queue.Add(txn, prompt.atom_id(), 1).ok());
    REQUIRE(queue.Add(txn, answer.atom_id(), 1).ok());
    REQUIRE(txn.Commit().ok());
  }
  daemon.Start();
  Client& restarted = daemon.client();
  // Queued references still count until released.
  REQUIRE(restarted.GetAtomByHash(Sha256Hex("first answer"), false, &answer).ok());
  CHECK(answer.is_active());
  // A prune with no row to delete releases the queue.
  v1::PruneInferencesRequest prune;
  *prune.mutable_older_than() = Ts(base - kHour);
  v1::PruneInferencesResponse pruned;
  REQUIRE(restarted.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.inferences_deleted() == 0);
  CHECK(pruned.atoms_released() == 2);
  REQUIRE(restarted.GetAtomByHash(Sha256Hex("shared prompt"), false, &prompt).ok());
  CHECK(prompt.reference_count() == 1);
  CHECK(prompt.is_active());
  REQUIRE(restarted.GetAtomByHash(Sha256Hex("first answer"), false, &answer).ok());
  CHECK_FALSE(answer.is_active());
  // Released once: the next prune finds nothing queued.
  REQUIRE(restarted.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.atoms_released() == 0);
  REQUIRE(restarted.GetAtomByHash(Sha256Hex("shared prompt"), false, &prompt).ok());
  CHECK(prompt.reference_count() == 1);
  // The remaining row is pruned as usual and its prompt released.
  *prune.mutable_older_than() = Ts(NowUs());
  REQUIRE(restarted.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.inferences_deleted() == 1);
  CHECK(pruned.atoms_released() == 1);
  REQUIRE(restarted.GetAtomByHash(Sha256Hex("shared prompt"), false, &prompt).ok());
  CHECK_FALSE(prompt.is_active());
  REQUIRE(daemon.Stop() == 0);
  const StoppedStore store = OpenStopped(daemon.data_dir());
  storage::ReadTxn txn(*store.env);
  auto queued = storage::PendingReleaseTable(store.tables).Count(txn);
  REQUIRE(queued.ok());
  CHECK(*queued == 0);
}

TEST_CASE("inference: a prune releases what is left of texts a DeleteAtom dropped", "[inference]") {
  Daemon daemon;
  Client& client = daemon.client();
  const uint64_t model = CreateModel(client, "m");
  const int64_t base = (NowUs() / kHour - 10) * kHour;
  for (int j = 0; j < 3; ++j) {
    v1::LogInferenceRequest r;
    r.set_model_id(model);
    r.set_duration_ms(2);
    *r.mutable_start_time() = Ts(base + j * kMinute);
    r.set_input_text("deleted prompt");
    r.set_output_text("kept answer " + std::to_string(j));
    Log(client, r);
  }
  v1::Atom deleted;
  REQUIRE(client.GetAtomByHash(Sha256Hex("deleted prompt"), false, &deleted).ok());
  REQUIRE(deleted.reference_count() == 3);
  // The user drops every reference of the prompt the rows hold.
  REQUIRE(client.DeleteAtom(deleted.atom_id(), &deleted).ok());
  REQUIRE_FALSE(deleted.is_active());
  v1::PruneInferencesRequest prune;
  *prune.mutable_older_than() = Ts(NowUs());
  v1::PruneInferencesResponse pruned;
  REQUIRE(client.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.inferences_deleted() == 3);
  // Only the answers' references were still held.
  CHECK(pruned.atoms_released() == 3);
  for (int j = 0; j < 3; ++j) {
    v1::Atom answer;
    REQUIRE(
        client.GetAtomByHash(Sha256Hex("kept answer " + std::to_string(j)), false, &answer).ok());
    CHECK_FALSE(answer.is_active());
  }
  // Nothing is left queued: the next prune releases nothing.
  REQUIRE(client.PruneInferences(prune, &pruned).ok());
  CHECK(pruned.atoms_released() == 0);
}
