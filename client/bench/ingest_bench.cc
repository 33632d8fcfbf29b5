// hartonomous-bench ingest / ingest-reference: atom ingest throughput against
// hartonomousd with every atom's id verified, and the same work done by LMDB
// alone in-process as a reference.
//
//   hartonomous-bench ingest --server 127.0.0.1:50051 --atoms 200000
//       --atom-bytes 1024 --clients 8 --batch 1000 --dup-fraction 0.5 [--json]
//   hartonomous-bench ingest-reference --dir "$(mktemp -d)" --atoms 200000 ... [--json]
//
// See docs/benchmarks.md ("Atom ingest") and run_ingest_bench.sh.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench_channel.h"
#include "bench_data.h"
#include "bench_report.h"
#include "hartonomous/client.h"
#include "ingest_command.h"
#include "reference_ingest.h"

namespace hartonomous::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kUsage[] =
    "usage:\n"
    "  hartonomous-bench ingest --server ADDR [data options] [--timeout-s S]\n"
    "                    [--server-pid PID] [--max-message-bytes B] [--json]\n"
    "  hartonomous-bench ingest-reference --dir DIR [data options] [--keep]\n"
    "                    [--writemap] [--append] [--json]\n"
    "data options (defaults): --atoms 200000 --atom-bytes 1024 --clients 1\n"
    "  --batch 1000 --dup-fraction 0 --tag '' --seed 1\n"
    "  --corpus PATH|GLOB (repeatable; default /usr/share/common-licenses)\n";

struct Flags {
  std::string command;
  std::map<std::string, std::string> values;
  std::vector<std::string> corpus;
  bool json = false;
  bool keep = false;
  bool writemap = false;
  bool append = false;
};

bool ParseFlags(int argc, char** argv, Flags* flags, std::string* error) {
  if (argc < 2) {
    *error = "missing command";
    return false;
  }
  flags->command = argv[1];
  static const char* kValued[] = {
      "--server",           "--dir", "--atoms", "--atom-bytes", "--clients",   "--batch",
      "--dup-fraction",     "--tag", "--seed",  "--corpus",     "--timeout-s", "--server-pid",
      "--max-message-bytes"};
  const std::pair<const char*, bool*> switches[] = {{"--json", &flags->json},
                                                    {"--keep", &flags->keep},
                                                    {"--writemap", &flags->writemap},
                                                    {"--append", &flags->append}};
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    const auto* on = std::find_if(std::begin(switches), std::end(switches),
                                  [&](const auto& s) { return arg == s.first; });
    if (on != std::end(switches)) {
      *on->second = true;
      continue;
    }
    const bool valued = std::find(std::begin(kValued), std::end(kValued), arg) != std::end(kValued);
    if (!valued) {
      *error = "unknown flag " + arg;
      return false;
    }
    if (i + 1 >= argc) {
      *error = arg + " needs a value";
      return false;
    }
    if (arg == "--corpus") {
      flags->corpus.push_back(argv[++i]);
    } else {
      flags->values[arg] = argv[++i];
    }
  }
  return true;
}

// Parses flag's value with parse, keeping *out when the flag is absent.
template <typename T, typename Parse>
bool FlagValue(const Flags& flags, const std::string& name, Parse parse, T* out,
               std::string* error) {
  auto it = flags.values.find(name);
  if (it == flags.values.end()) return true;
  try {
    size_t used = 0;
    *out = static_cast<T>(parse(it->second, &used));
    if (used != it->second.size()) throw std::invalid_argument(it->second);
  } catch (const std::exception&) {
    *error = name + ": not a number: " + it->second;
    return false;
  }
  return true;
}

bool ParseDataOptions(const Flags& flags, DataOptions* options, std::string* error) {
  auto ull = [](const std::string& s, size_t* used) { return std::stoull(s, used); };
  auto dbl = [](const std::string& s, size_t* used) { return std::stod(s, used); };
  auto integer = [](const std::string& s, size_t* used) { return std::stoi(s, used); };
  if (!FlagValue(flags, "--atoms", ull, &options->atoms, error) ||
      !FlagValue(flags, "--atom-bytes", ull, &options->atom_bytes, error) ||
      !FlagValue(flags, "--clients", integer, &options->clients, error) ||
      !FlagValue(flags, "--batch", ull, &options->batch, error) ||
      !FlagValue(flags, "--dup-fraction", dbl, &options->dup_fraction, error) ||
      !FlagValue(flags, "--seed", ull, &options->seed, error)) {
    return false;
  }
  if (auto it = flags.values.find("--tag"); it != flags.values.end()) options->tag = it->second;
  if (!flags.corpus.empty()) options->corpus_paths = flags.corpus;
  *error = CheckDataOptions(*options);
  return error->empty();
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

  Client client(MakeBenchChannel(target, index), ClientOptions{target, timeout});
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

int RunIngest(const Flags& flags, const DataOptions& data, const AtomPlan& plan,
              RunResult* result) {
  auto server = flags.values.find("--server");
  if (server == flags.values.end()) {
    std::fprintf(stderr, "ingest: --server is required\n%s", kUsage);
    return 2;
  }
  std::string error;
  double timeout_s = 120;
  int server_pid = 0;
  size_t max_message_bytes = Client::kDefaultMessageBytes;
  auto dbl = [](const std::string& s, size_t* used) { return std::stod(s, used); };
  auto integer = [](const std::string& s, size_t* used) { return std::stoi(s, used); };
  auto ull = [](const std::string& s, size_t* used) { return std::stoull(s, used); };
  if (!FlagValue(flags, "--timeout-s", dbl, &timeout_s, &error) ||
      !FlagValue(flags, "--server-pid", integer, &server_pid, &error) ||
      !FlagValue(flags, "--max-message-bytes", ull, &max_message_bytes, &error)) {
    std::fprintf(stderr, "ingest: %s\n", error.c_str());
    return 2;
  }
  const std::string& target = server->second;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));

  result->mode = "ingest";
  Client admin(MakeBenchChannel(target, -1), ClientOptions{target, timeout});
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

}  // namespace

int IngestCommandMain(int argc, char** argv) {
  Flags flags;
  std::string error;
  if (!ParseFlags(argc, argv, &flags, &error)) {
    std::fprintf(stderr, "%s\n%s", error.c_str(), kUsage);
    return 2;
  }
  if (flags.command != "ingest" && flags.command != "ingest-reference") {
    std::fprintf(stderr, "unknown command %s\n%s", flags.command.c_str(), kUsage);
    return 2;
  }
  DataOptions data;
  if (!ParseDataOptions(flags, &data, &error)) {
    std::fprintf(stderr, "%s: %s\n", flags.command.c_str(), error.c_str());
    return 2;
  }
  AtomPlan plan;
  if (!MakeAtomPlan(data, &plan, &error)) {
    std::fprintf(stderr, "%s: %s\n", flags.command.c_str(), error.c_str());
    return 1;
  }

  RunResult result;
  if (flags.command == "ingest") {
    if (int rc = RunIngest(flags, data, plan, &result); rc != 0) return rc;
  } else {
    ReferenceOptions reference;
    auto dir = flags.values.find("--dir");
    if (dir == flags.values.end()) {
      std::fprintf(stderr, "ingest-reference: --dir is required\n%s", kUsage);
      return 2;
    }
    reference.dir = dir->second;
    reference.keep = flags.keep;
    reference.writemap = flags.writemap;
    reference.append = flags.append;
    if (!RunReference(reference, plan, &result, &error)) {
      std::fprintf(stderr, "ingest-reference: %s\n", error.c_str());
      return 1;
    }
  }

  nlohmann::json report = ToJson(data, plan, result);
  if (flags.json) {
    std::printf("%s\n", report.dump().c_str());
  } else {
    PrintHuman(report);
  }
  return result.verified ? 0 : 3;
}

}  // namespace hartonomous::bench
