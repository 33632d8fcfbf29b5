// hartonomous-bench: the load generator for hartonomousd.
//
//   hartonomous-bench WORKLOAD [flags]        one workload (see --help)
//   hartonomous-bench mixed --mix search=8,ingest-atoms=1,log-inference=1 [flags]
//   hartonomous-bench SUITE [flags]           a suite (suites/suites.h): the
//                                             server against an in-process
//                                             reference in one run
//
// Calls go out on gRPC's callback API from one dispatch thread, closed loop
// at --concurrency or open loop at --rate; the run is bounded by --requests
// and/or --duration-s (10 s when neither is given). It prints throughput,
// latency percentiles and errors by status code, writes the whole report as
// JSON with --json-out and compares with an earlier report with --compare.
//
// Exit status: 0 done; 1 the server could not be prepared or reached; 2 bad
// flags; 3 --fail-on-error and a measured call failed (suites: a result did
// not verify).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "../bench_channel.h"
#include "../suites/suites.h"
#include "bench_flags.h"
#include "flag_sets.h"
#include "load_driver.h"
#include "load_report.h"
#include "workload_factory.h"

namespace hartonomous::bench {
namespace {

std::vector<FlagSpec> Specs() {
  return JoinFlags(
      {ServerFlags(),
       VectorDataFlags("1000"),
       {{"channels", "1", "gRPC channels (TCP connections); calls spread over them"},
        {"concurrency", "1", "calls in flight at most"},
        {"requests", "0", "measured calls to send (0 = until --duration-s)"},
        {"duration-s", "0", "measured seconds (0 = until --requests; 10 when neither)"},
        {"warmup-s", "0", "seconds of unmeasured calls before measuring"},
        {"rate", "0", "calls/s, open loop (latency from the intended send time); 0 = closed loop"},
        {"timeout-ms", "10000", "deadline of every call"},
        {"interval-s", "0", "record throughput, p99 and server RSS this often"},
        {"mix", "", "mixed: workload weights, e.g. search=8,ingest-atoms=1"},
        {"compare", "", "an earlier --json-out report to compare with"},
        {"fail-on-error", "", "exit 3 when any measured call failed", true},
        {"frame-out", "", "write request 0 as a gRPC frame (for h2load) and exit"},
        {"nonce", "", "mixed into written content and names (default: the start time)"},
        {"no-prepare", "", "do not create or load anything first", true},
        {"collection", "bench-fmnist", "search workloads: the collection"},
        {"ef", "0", "HNSW ef per query (0 = the collection's)"},
        {"queries-per-call", "10", "batch-search: queries per BatchSearch"},
        {"keep-fraction", "0.05", "hybrid: fraction of points the spatial stage keeps"},
        {"text-dir", "/usr/share/common-licenses", "text for atoms, documents and prompts"},
        {"atoms-per-call", "100", "ingest-atoms: atoms per IngestAtoms stream"},
        {"atom-bytes", "1024", "ingest-atoms, ingest-atom, get-atom: bytes per atom"},
        {"prepare-atoms", "10000",
         "get-atom: atoms ingested first and read back; ingest-atom: distinct atoms"},
        {"model-file", "", "import-model: the model file sent"}},
       ReportFlags()});
}

void Usage(const BenchFlags& flags) {
  std::string names, suites;
  for (const std::string& n : WorkloadNames()) names += " " + n;
  for (const BenchCommand& c : Suites()) {
    std::string left = "  " + c.name;
    if (left.size() < 20) left.resize(20, ' ');
    suites += left + " " + c.summary + "\n";
  }
  std::fprintf(stderr,
               "usage: hartonomous-bench WORKLOAD [flags]\n"
               "       hartonomous-bench mixed --mix NAME=WEIGHT,... [flags]\n"
               "       hartonomous-bench SUITE [flags]   (hartonomous-bench SUITE --help)\n"
               "workloads:%s\nsuites:\n%sflags of the workloads:\n%s",
               names.c_str(), suites.c_str(), flags.Help().c_str());
}

// A suite: its flags parsed, then run; a FlagError is exit status 2.
int RunSuite(const BenchCommand& suite, int argc, char** argv) {
  BenchFlags flags(suite.flags);
  std::string error;
  if (!flags.Parse(argc, argv, 2, &error)) {
    std::fprintf(stderr, "hartonomous-bench %s: %s\n", suite.name.c_str(), error.c_str());
    return 2;
  }
  if (flags.Bool("help")) {
    std::fprintf(stderr, "usage: hartonomous-bench %s [flags]\n%s\nflags:\n%s", suite.name.c_str(),
                 suite.summary.c_str(), flags.Help().c_str());
    return 0;
  }
  try {
    return suite.run(flags);
  } catch (const FlagError& e) {
    std::fprintf(stderr, "hartonomous-bench %s: %s\n", suite.name.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hartonomous-bench %s: %s\n", suite.name.c_str(), e.what());
    return 1;
  }
}

int Run(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  for (const BenchCommand& suite : Suites()) {
    if (suite.name == command) return RunSuite(suite, argc, argv);
  }
  BenchFlags flags(Specs());
  std::string error;
  if (command.empty() || command == "--help" || command == "-h") {
    Usage(flags);
    return command.empty() ? 2 : 0;
  }
  if (!flags.Parse(argc, argv, 2, &error)) {
    std::fprintf(stderr, "hartonomous-bench: %s\n", error.c_str());
    return 2;
  }
  if (flags.Bool("help")) {
    Usage(flags);
    return 0;
  }
  auto fail = [&](const std::string& message) {
    std::fprintf(stderr, "hartonomous-bench: %s\n", message.c_str());
    return 2;
  };

  WorkloadMix mix;
  if (command == "mixed") {
    if (!flags.Set("mix"))
      return fail("mixed: --mix is required, e.g. --mix search=8,ingest-atoms=1");
    if (!WorkloadMix::Parse(flags.Str("mix"), &mix, &error)) return fail(error);
  } else {
    if (flags.Set("mix")) return fail("--mix is for the mixed workload only");
    mix = WorkloadMix::Single(command);
  }

  LoadOptions load;
  WorkloadConfig config;
  auto int_flag = [&](const char* name, int64_t lo, int64_t hi) {
    return flags.IntIn(name, lo, hi);
  };
  auto double_flag = [&](const char* name, double lo, double hi) {
    return flags.DoubleIn(name, lo, hi);
  };
  int channels = 1;
  try {
    channels = static_cast<int>(int_flag("channels", 1, 1024));
    load.concurrency = static_cast<int>(int_flag("concurrency", 1, 100000));
    load.requests = static_cast<uint64_t>(int_flag("requests", 0, int64_t{1} << 40));
    load.duration_s = double_flag("duration-s", 0, 86400);
    load.warmup_s = double_flag("warmup-s", 0, 3600);
    load.rate = double_flag("rate", 0, 1e7);
    load.timeout_ms = static_cast<int>(int_flag("timeout-ms", 1, 3600000));
    load.interval_s = double_flag("interval-s", 0, 3600);
    load.server_pid = static_cast<int>(int_flag("server-pid", 0, INT32_MAX));
    config.vectors = static_cast<uint64_t>(int_flag("vectors", 1, int64_t{1} << 32));
    config.query_count = static_cast<uint64_t>(int_flag("nq", 1, int64_t{1} << 32));
    config.k = static_cast<uint32_t>(int_flag("k", 1, 100000));
    config.ef = static_cast<uint32_t>(int_flag("ef", 0, 100000));
    config.m = static_cast<uint32_t>(int_flag("m", 2, 1024));
    config.ef_construction = static_cast<uint32_t>(int_flag("ef-construction", 1, 100000));
    config.queries_per_call = static_cast<uint32_t>(int_flag("queries-per-call", 1, 100000));
    config.keep_fraction = double_flag("keep-fraction", 1e-9, 1);
    config.atoms_per_call = static_cast<uint32_t>(int_flag("atoms-per-call", 1, 1000000));
    config.atom_bytes = static_cast<uint32_t>(int_flag("atom-bytes", 1, 16 << 20));
    config.prepare_atoms = static_cast<uint32_t>(int_flag("prepare-atoms", 1, 100000000));
  } catch (const FlagError& e) {
    return fail(e.what());
  }
  if (load.requests == 0 && load.duration_s == 0) load.duration_s = 10;
  config.collection = flags.Str("collection");
  config.train_path = flags.Str("train");
  config.queries_path = flags.Str("queries");
  config.text_dir = flags.Str("text-dir");
  config.model_file = flags.Str("model-file");
  config.prepare = !flags.Bool("no-prepare");
  config.nonce = flags.Set("nonce")
                     ? flags.Str("nonce")
                     : std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());

  std::vector<std::unique_ptr<Workload>> owned;
  std::vector<Workload*> workloads;
  for (const auto& entry : mix.entries()) {
    if (entry.name == "mixed") return fail("mixed cannot be part of --mix");
    std::unique_ptr<Workload> w = MakeWorkload(entry.name, config, &error);
    if (w == nullptr) return fail(error);
    workloads.push_back(w.get());
    owned.push_back(std::move(w));
  }

  ClientOptions client_options;
  client_options.target = flags.Str("server");
  client_options.timeout = std::chrono::hours(1);
  if (std::string tls_error; !ApplyClientEnvironment(&client_options, &tls_error)) {
    return fail(tls_error);
  }
  // The channels and this client live until the process ends: gRPC 1.51
  // can free its shared callback completion queue twice when a channel that
  // carried callback calls is destroyed while that queue's thread winds down,
  // so nothing here destroys them and main() ends with _Exit.
  Client& client = *new Client(client_options);
  if (grpc::Status s = client.WaitUntilServing(std::chrono::seconds(30)); !s.ok()) {
    std::fprintf(stderr, "hartonomous-bench: cannot reach hartonomousd at %s: %s\n",
                 client_options.target.c_str(), s.error_message().c_str());
    return 1;
  }
  for (Workload* w : workloads) {
    if (grpc::Status s = w->Prepare(client); !s.ok()) {
      std::fprintf(stderr, "hartonomous-bench: preparing %s: %s\n", w->name().c_str(),
                   s.error_message().c_str());
      return 1;
    }
  }

  if (flags.Set("frame-out")) {
    std::string method, request;
    if (!workloads[0]->Serialize(0, &method, &request)) {
      return fail(workloads[0]->name() + " has no unary request to write as a frame");
    }
    // gRPC length-prefixed message: flag 0 (not compressed), 4-byte length.
    std::string frame(5, '\0');
    const uint32_t n = static_cast<uint32_t>(request.size());
    frame[1] = static_cast<char>(n >> 24);
    frame[2] = static_cast<char>(n >> 16);
    frame[3] = static_cast<char>(n >> 8);
    frame[4] = static_cast<char>(n);
    frame += request;
    std::ofstream out(flags.Str("frame-out"), std::ios::binary | std::ios::trunc);
    out << frame;
    if (!out.flush()) return fail("--frame-out " + flags.Str("frame-out") + ": cannot write");
    std::printf("%s\n", method.c_str());
    return 0;
  }

  auto& channel_list = *new std::vector<std::shared_ptr<grpc::Channel>>();
  for (int i = 0; i < channels; ++i) {
    channel_list.push_back(MakeBenchChannel(client_options.target, i));
    if (!channel_list.back()->WaitForConnected(std::chrono::system_clock::now() +
                                               std::chrono::seconds(10))) {
      std::fprintf(stderr, "hartonomous-bench: channel %d did not connect to %s\n", i,
                   client_options.target.c_str());
      return 1;
    }
  }

  const LoadResult result = RunLoad(load, mix, workloads, channel_list);
  nlohmann::json options = {{"workload", command},
                            {"mix", command == "mixed" ? flags.Str("mix") : command},
                            {"server", client_options.target},
                            {"channels", channels},
                            {"concurrency", load.concurrency},
                            {"requests", load.requests},
                            {"duration_s", load.duration_s},
                            {"warmup_s", load.warmup_s},
                            {"rate", load.rate},
                            {"timeout_ms", load.timeout_ms}};
  const nlohmann::json report = ReportJson(result, options);
  if (flags.Set("json-out")) {
    std::ofstream out(flags.Str("json-out"), std::ios::trunc);
    out << report.dump(1) << "\n";
    if (!out.flush()) return fail("--json-out " + flags.Str("json-out") + ": cannot write");
  }
  if (flags.Bool("json")) {
    std::printf("%s\n", report.dump().c_str());
  } else {
    PrintReport(report);
  }
  if (flags.Set("compare")) {
    std::ifstream in(flags.Str("compare"));
    nlohmann::json before = nlohmann::json::parse(in, nullptr, false);
    if (before.is_discarded() || !before.is_object() || !before.contains("latency_us")) {
      return fail("--compare " + flags.Str("compare") + ": not a hartonomous-bench report");
    }
    PrintComparison(before, report);
  }
  const bool failed = report["ok"].get<uint64_t>() != report["calls"].get<uint64_t>();
  return flags.Bool("fail-on-error") && failed ? 3 : 0;
}

}  // namespace
}  // namespace hartonomous::bench

int main(int argc, char** argv) {
  const int rc = hartonomous::bench::Run(argc, argv);
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(rc);
}
