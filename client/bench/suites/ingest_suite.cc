// hartonomous-bench ingest / ingest-reference: atom ingest throughput against
// hartonomousd with every atom's id verified, and the same work done by LMDB
// alone in-process as a reference.
//
//   hartonomous-bench ingest --server 127.0.0.1:50051 --atoms 200000
//       --atom-bytes 1024 --clients 8 --batch 1000 --dup-fraction 0.5 [--json]
//   hartonomous-bench ingest-reference --dir "$(mktemp -d)" --atoms 200000 ... [--json]
//
// Exit status: 0 verified; 1 the run could not be done; 2 bad flags; 3 an
// atom's id or count did not match the plan.
//
// See docs/benchmarks.md ("Atom ingest") and run_ingest_bench.sh.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../bench_channel.h"
#include "../bench_data.h"
#include "../bench_report.h"
#include "../reference_ingest.h"
#include "../search_bench_util.h"
#include "flag_sets.h"
#include "hartonomous/client.h"
#include "suites.h"

namespace hartonomous::bench {
namespace {

// The flags ingest and ingest-reference share: the data plan and the report.
std::vector<FlagSpec> DataFlags() {
  return {{"atoms", "200000", "atoms sent in all, over all clients"},
          {"atom-bytes", "1024", "content bytes of every atom"},
          {"clients", "1", "concurrent clients the atoms are split over"},
          {"batch", "1000", "atoms per IngestAtoms stream (one transaction)"},
          {"dup-fraction", "0", "fraction of sent atoms that repeat earlier content, in [0, 1)"},
          {"tag", "", "mixed into every atom so repeated runs send distinct atoms"},
          {"seed", "1", "seed of the duplicate placement"},
          {"corpus", "/usr/share/common-licenses",
           "file, directory or glob of real text the atoms are cut from", false, true}};
}

DataOptions ParseDataOptions(const BenchFlags& flags) {
  DataOptions options;
  options.atoms = static_cast<size_t>(flags.IntIn("atoms", 1, int64_t{1} << 36));
  options.atom_bytes = static_cast<size_t>(flags.IntIn("atom-bytes", 1, 64 << 20));
  options.clients = static_cast<int>(flags.IntIn("clients", 1, 4096));
  options.batch = static_cast<size_t>(flags.IntIn("batch", 1, 10000000));
  options.dup_fraction = flags.DoubleIn("dup-fraction", 0, 0.999999);
  options.seed = static_cast<uint64_t>(flags.IntIn("seed", 0, INT64_MAX));
  options.tag = flags.Str("tag");
  options.corpus_paths = flags.All("corpus");
  if (std::string error = CheckDataOptions(options); !error.empty()) throw FlagError(error);
  return options;
}

// What one client thread saw.
struct ClientOutcome {
  std::vector<double> batch_ms;
  std::vector<std::pair<uint32_t, uint64_t>> atom_ids;  // (content id, atom_id)
  uint64_t created = 0;
  uint64_t reused = 0;
  std::vector<std::string> errors;
};

void RunClient(int index, const std::string& target, std::chrono::milliseconds timeout,
               size_t max_message_bytes, const AtomPlan& plan, std::latch* ready, std::latch* go,
               std::atomic<bool>* failed, ClientOutcome* out) {
  // Prepare every request before the clock starts: the benchmark measures
  // transport, dedup and commit, not building the data.
  const auto& batches = plan.batches[static_cast<size_t>(index)];
  std::vector<std::vector<v1::IngestAtomRequest>> requests(batches.size());
  for (size_t b = 0; b < batches.size(); ++b) {
    requests[b].reserve(batches[b].size());
    for (uint32_t id : batches[b]) {
      v1::IngestAtomRequest atom;
      atom.set_content(plan.contents[id]);
      atom.set_modality("text");
      atom.set_subtype("plain");
      atom.set_source_type("license");
      atom.set_source_uri("file://" + plan.source_files[plan.source_file[id]]);
      requests[b].push_back(std::move(atom));
    }
  }
  out->batch_ms.reserve(batches.size());
  out->atom_ids.reserve(plan.atoms / plan.batches.size() + 1);

  ClientOptions options;
  options.target = target;
  options.timeout = timeout;
  Client client(MakeBenchChannel(target, index), options);
  grpc::Status serving = client.WaitUntilServing(std::chrono::seconds(30));
  if (!serving.ok()) {
    out->errors.push_back("client " + std::to_string(index) +
                          ": not SERVING: " + serving.error_message());
    failed->store(true);
  }
  ready->count_down();
  go->wait();

  for (size_t b = 0; b < batches.size() && !failed->load(std::memory_order_relaxed); ++b) {
    const auto start = Clock::now();
    auto stream = client.OpenIngestStream(max_message_bytes);
    for (auto& atom : requests[b]) {
      if (!stream->Write(std::move(atom))) break;
    }
    v1::IngestAtomsResponse response;
    grpc::Status status = stream->Finish(&response);
    out->batch_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());

    std::string where = "client " + std::to_string(index) + " batch " + std::to_string(b) + ": ";
    if (!status.ok()) {
      out->errors.push_back(where + "status " + std::to_string(status.error_code()) + " " +
                            status.error_message());
      failed->store(true);
      break;
    }
    const auto& ids = batches[b];
    if (static_cast<size_t>(response.results_size()) != ids.size()) {
      out->errors.push_back(where + std::to_string(response.results_size()) + " results for " +
                            std::to_string(ids.size()) + " atoms");
      failed->store(true);
      break;
    }
    uint64_t created_flags = 0, bytes = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      const auto& result = response.results(static_cast<int>(i));
      if (result.content_hash() != plan.hashes[ids[i]] && out->errors.size() < 10) {
        out->errors.push_back(where + "atom " + std::to_string(i) + " content_hash " +
                              result.content_hash() + " != " + plan.hashes[ids[i]]);
      }
      created_flags += result.created() ? 1 : 0;
      bytes += plan.contents[ids[i]].size();
      out->atom_ids.emplace_back(ids[i], result.atom_id());
    }
    if (response.atoms_created() + response.atoms_reused() != ids.size() ||
        response.atoms_created() != created_flags) {
      out->errors.push_back(where + "atoms_created " + std::to_string(response.atoms_created()) +
                            " + atoms_reused " + std::to_string(response.atoms_reused()) + " vs " +
                            std::to_string(ids.size()) + " atoms, " +
                            std::to_string(created_flags) + " created flags");
    }
    if (response.bytes_received() != bytes && out->errors.size() < 10) {
      out->errors.push_back(where + "bytes_received " + std::to_string(response.bytes_received()) +
                            " != " + std::to_string(bytes));
    }
    out->created += response.atoms_created();
    out->reused += response.atoms_reused();
  }
}

// Same content must have one atom_id; distinct contents distinct atom_ids.
void CheckAtomIds(const AtomPlan& plan, const std::vector<ClientOutcome>& outcomes,
                  std::vector<std::string>* errors) {
  std::vector<uint64_t> id_of(plan.contents.size(), 0);
  size_t conflicts = 0;
  for (const auto& outcome : outcomes) {
    for (const auto& [content, atom_id] : outcome.atom_ids) {
      if (id_of[content] == 0) {
        id_of[content] = atom_id;
      } else if (id_of[content] != atom_id) {
        ++conflicts;
      }
    }
  }
  if (conflicts > 0) {
    errors->push_back(std::to_string(conflicts) +
                      " atoms got another atom_id than earlier "
                      "atoms with the same content");
  }
  std::vector<uint64_t> sorted = id_of;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    errors->push_back("distinct contents share an atom_id");
  }
}

int RunIngest(const BenchFlags& flags, const DataOptions& data, const AtomPlan& plan,
              RunResult* result) {
  const double timeout_s = flags.DoubleIn("timeout-s", 0.001, 86400);
  const auto server_pid = static_cast<int>(flags.IntIn("server-pid", 0, INT32_MAX));
  const auto max_message_bytes =
      static_cast<size_t>(flags.IntIn("max-message-bytes", 1024, int64_t{1} << 31));
  const std::string& target = flags.Required("server");
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));

  result->mode = "ingest";
  ClientOptions options;
  options.target = target;
  options.timeout = timeout;
  Client admin(MakeBenchChannel(target, -1), options);
  if (grpc::Status s = admin.WaitUntilServing(std::chrono::seconds(30)); !s.ok()) {
    std::fprintf(stderr, "ingest: %s is not SERVING: %s\n", target.c_str(),
                 s.error_message().c_str());
    return 1;
  }

  const int clients = data.clients;
  std::latch ready(clients);
  std::latch go(1);
  std::atomic<bool> failed{false};
  std::vector<ClientOutcome> outcomes(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(RunClient, i, std::cref(target), timeout, max_message_bytes,
                         std::cref(plan), &ready, &go, &failed, &outcomes[static_cast<size_t>(i)]);
  }
  ready.wait();

  v1::ServerStats before, after;
  grpc::Status stats_before = admin.GetServerStats(&before);
  const double server_cpu_start = ProcessCpuSeconds(server_pid);
  const double busy_start = MachineBusySeconds();
  const double cpu_start = SelfCpuSeconds();
  const auto start = Clock::now();
  go.count_down();
  for (auto& thread : threads) thread.join();
  result->wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  result->client_cpu_s = SelfCpuSeconds() - cpu_start;
  const double server_cpu_end = ProcessCpuSeconds(server_pid);
  const double busy_end = MachineBusySeconds();
  if (busy_start >= 0 && busy_end >= 0) result->machine_busy_s = busy_end - busy_start;
  if (server_cpu_start >= 0 && server_cpu_end >= 0) {
    result->server_cpu_s = server_cpu_end - server_cpu_start;
  }
  grpc::Status stats_after = admin.GetServerStats(&after);

  for (auto& outcome : outcomes) {
    result->batch_ms.insert(result->batch_ms.end(), outcome.batch_ms.begin(),
                            outcome.batch_ms.end());
    result->created += outcome.created;
    result->reused += outcome.reused;
    result->errors.insert(result->errors.end(), outcome.errors.begin(), outcome.errors.end());
  }
  if (stats_before.ok() && stats_after.ok()) {
    result->commits = after.commits() - before.commits();
    result->write_requests = after.write_requests() - before.write_requests();
    result->items_written = after.items_written() - before.items_written();
  } else {
    result->errors.push_back("GetServerStats failed: " + stats_before.error_message() +
                             stats_after.error_message());
  }
  if (!failed.load()) {
    const uint64_t distinct = plan.contents.size();
    if (result->created != distinct || result->reused != plan.atoms - distinct) {
      result->errors.push_back("created " + std::to_string(result->created) + ", reused " +
                               std::to_string(result->reused) + "; expected " +
                               std::to_string(distinct) + " and " +
                               std::to_string(plan.atoms - distinct) +
                               " (is the database empty? else pass a new --tag)");
    }
    CheckAtomIds(plan, outcomes, &result->errors);
  }
  double batch_sum_ms = 0;
  for (double ms : result->batch_ms) batch_sum_ms += ms;
  result->phases = {
      {"batch_mean_ms", result->batch_ms.empty()
                            ? 0.0
                            : batch_sum_ms / static_cast<double>(result->batch_ms.size())},
      {"data_file_bytes", after.data_file_bytes()},
      {"map_resizes", after.map_resizes() - before.map_resizes()}};
  result->verified = !failed.load() && result->errors.empty();
  return 0;
}

// Both commands: the plan, the run (run_one), the report; exit 3 when
// the run was not verified.
int RunCommand(const BenchFlags& flags,
               const std::function<int(const DataOptions&, const AtomPlan&, RunResult*)>& run_one) {
  const DataOptions data = ParseDataOptions(flags);
  AtomPlan plan;
  if (std::string error; !MakeAtomPlan(data, &plan, &error)) Die(error);
  RunResult result;
  if (int rc = run_one(data, plan, &result); rc != 0) return rc;
  const nlohmann::json report = ToJson(data, plan, result);
  if (flags.Set("json-out")) {
    std::ofstream out(flags.Str("json-out"), std::ios::trunc);
    out << report.dump(1) << "\n";
    if (!out.flush()) Die("--json-out " + flags.Str("json-out") + ": cannot write");
  }
  if (flags.Bool("json")) {
    std::printf("%s\n", report.dump().c_str());
  } else {
    PrintHuman(report);
  }
  return result.verified ? 0 : 3;
}

}  // namespace

BenchCommand IngestSuite() {
  std::vector<FlagSpec> flags =
      JoinFlags({ServerFlags(),
                 DataFlags(),
                 {{"timeout-s", "120", "deadline of every IngestAtoms stream"},
                  {"max-message-bytes", std::to_string(Client::kDefaultMessageBytes),
                   "the client's largest message"}},
                 ReportFlags()});
  return {"ingest", "atom ingest through hartonomousd with every returned id verified",
          std::move(flags), [](const BenchFlags& f) {
            SetProgramName("hartonomous-bench ingest");
            return RunCommand(
                f, [&](const DataOptions& data, const AtomPlan& plan, RunResult* result) {
                  return RunIngest(f, data, plan, result);
                });
          }};
}

BenchCommand IngestReferenceSuite() {
  std::vector<FlagSpec> flags =
      JoinFlags({DataFlags(),
                 {{"dir", "", "an empty directory for the LMDB environment (required)"},
                  {"keep", "", "keep the environment afterwards", true},
                  {"writemap", "", "open LMDB with MDB_WRITEMAP", true},
                  {"append", "", "write keys with MDB_APPEND", true}},
                 ReportFlags()});
  return {"ingest-reference", "the same atoms written by LMDB alone, in process", std::move(flags),
          [](const BenchFlags& f) {
            SetProgramName("hartonomous-bench ingest-reference");
            ReferenceOptions reference;
            reference.dir = f.Required("dir");
            reference.keep = f.Bool("keep");
            reference.writemap = f.Bool("writemap");
            reference.append = f.Bool("append");
            return RunCommand(f, [&](const DataOptions&, const AtomPlan& plan, RunResult* result) {
              if (std::string error; !RunReference(reference, plan, result, &error)) Die(error);
              return 0;
            });
          }};
}

}  // namespace hartonomous::bench
