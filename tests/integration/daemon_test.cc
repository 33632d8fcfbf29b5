// hartonomousd as a process: flags, one daemon per data dir, clean stop,
// health and reflection.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/message.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "daemon_harness.h"
#include "raw_rpc.h"
#include "reflection_util.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

TEST_CASE("a second daemon on the same data dir refuses to start", "[daemon]") {
  Daemon daemon;
  ProcessResult second =
      RunProcess({DaemonPath(), "--listen", "127.0.0.1:0", "--data-dir", daemon.data_dir()});
  CHECK(second.exit_code == 1);
  CHECK_THAT(second.err, Catch::Contains("in use by another hartonomousd"));
  CHECK_THAT(second.err, Catch::Contains(std::to_string(daemon.pid())));
  // The first one is unaffected.
  v1::IngestAtomResponse r;
  CHECK(daemon.client().IngestAtom(TextAtom("first still serves"), &r).ok());
}

TEST_CASE("SIGTERM stops the daemon cleanly and frees the data dir", "[daemon]") {
  Daemon daemon;
  CHECK(daemon.Stop() == 0);
  daemon.Start();  // the lock was released
  v1::IngestAtomResponse r;
  CHECK(daemon.client().IngestAtom(TextAtom("restarted"), &r).ok());
}

TEST_CASE("SIGTERM drains an in-flight stream before stopping", "[daemon]") {
  Daemon daemon;
  auto stream = daemon.client().OpenIngestStream(1);  // one message per atom
  REQUIRE(stream->Write(TextAtom("drain 1")));
  REQUIRE(stream->Write(TextAtom("drain 2")));  // flushes "drain 1"
  // Wait until the server has the stream: in_flight counts it and this call.
  v1::ServerStats stats;
  for (int i = 0; i < 10000; ++i) {
    REQUIRE(daemon.client().GetServerStats(&stats).ok());
    if (stats.in_flight_calls() >= 2) break;
  }
  REQUIRE(stats.in_flight_calls() >= 2);
  daemon.Signal(SIGTERM);
  REQUIRE(stream->Write(TextAtom("drain 3")));
  v1::IngestAtomsResponse response;
  grpc::Status status = stream->Finish(&response);
  REQUIRE(status.ok());
  CHECK(response.atoms_created() == 3);
  CHECK(daemon.Wait() == 0);
  daemon.Start();
  v1::Atom atom;
  for (const char* content : {"drain 1", "drain 2", "drain 3"}) {
    CHECK(daemon.client().GetAtomByHash(Sha256Hex(content), true, &atom).ok());
  }
}

TEST_CASE("bad flags exit with status 2 and name the flag", "[daemon]") {
  ProcessResult unknown = RunProcess({DaemonPath(), "--bogus"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("--bogus"));
  ProcessResult bad_level = RunProcess({DaemonPath(), "--log-level", "loud"});
  CHECK(bad_level.exit_code == 2);
  CHECK_THAT(bad_level.err, Catch::Contains("--log-level"));
  ProcessResult help = RunProcess({DaemonPath(), "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--data-dir"));
  ProcessResult busy_port_free = RunProcess({DaemonPath(), "--listen", "nonsense"});
  CHECK(busy_port_free.exit_code == 2);
}

TEST_CASE("an address already in use is a clear start-up error", "[daemon]") {
  Daemon daemon;
  TempDir other;
  ProcessResult clash =
      RunProcess({DaemonPath(), "--listen", daemon.address(), "--data-dir", other.path() + "/d"});
  CHECK(clash.exit_code == 1);
  CHECK_THAT(clash.err, Catch::Contains("--listen"));
}

TEST_CASE("a batch limit below the content limit is rejected", "[daemon]") {
  TempDir dir;
  ProcessResult bad =
      RunProcess({DaemonPath(), "--listen", "127.0.0.1:0", "--data-dir", dir.path() + "/x",
                  "--max-content-bytes", "10", "--max-batch-bytes", "5"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--max-batch-bytes"));
}

TEST_CASE("json logs are one JSON object per line", "[daemon]") {
  Daemon::Options options;
  options.extra_args = {"--log-format", "json", "--log-level", "info"};
  Daemon daemon(options);
  const std::string address = daemon.address();
  CHECK(daemon.Stop() == 0);
  std::ifstream log(daemon.log_path());
  std::string line;
  int lines = 0;
  bool saw_serving = false, saw_stop = false;
  while (std::getline(log, line)) {
    ++lines;
    auto json = nlohmann::json::parse(line, nullptr, false);
    INFO(line);
    REQUIRE(json.is_object());
    CHECK(json.contains("ts"));
    CHECK(json.contains("level"));
    REQUIRE(json["msg"].is_string());
    const std::string msg = json["msg"];
    if (msg.find("serving on " + address) != std::string::npos) saw_serving = true;
    if (msg.find("stopped cleanly") != std::string::npos) saw_stop = true;
  }
  CHECK(lines >= 2);
  CHECK(saw_serving);
  CHECK(saw_stop);
}

using google::protobuf::Message;

TEST_CASE("reflection lists and describes every service", "[daemon][reflection]") {
  Daemon daemon;
  RawBidiStream stream(daemon.client().channel(),
                       "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  auto request = NewReflectionMessage("ServerReflectionRequest");
  auto response = NewReflectionMessage("ServerReflectionResponse");
  SetString(request.get(), "list_services", "");
  REQUIRE(stream.Write(*request));
  REQUIRE(stream.Read(response.get()));
  std::set<std::string> services;
  for (const Message* s : Messages(Get(*response, "list_services_response"), "service")) {
    services.insert(String(*s, "name"));
  }
  CHECK(services.count("hartonomous.v1.AtomService") == 1);
  CHECK(services.count("hartonomous.v1.AdminService") == 1);
  CHECK(services.count("hartonomous.v1.ModelService") == 1);
  CHECK(services.count("grpc.health.v1.Health") == 1);

  SetString(request.get(), "file_containing_symbol", "hartonomous.v1.AtomService");
  REQUIRE(stream.Write(*request));
  REQUIRE(stream.Read(response.get()));
  REQUIRE(Has(*response, "file_descriptor_response"));
  std::set<std::string> methods;
  for (const auto& bytes :
       Strings(Get(*response, "file_descriptor_response"), "file_descriptor_proto")) {
    google::protobuf::FileDescriptorProto file;
    REQUIRE(file.ParseFromString(bytes));
    for (const auto& service : file.service()) {
      if (service.name() != "AtomService") continue;
      for (const auto& m : service.method()) methods.insert(m.name());
    }
  }
  for (const char* m : {"IngestAtom", "IngestAtoms", "GetAtom", "ListAtoms", "ReleaseAtom",
                        "DeleteAtom", "PurgeInactive", "GetDedupStats"}) {
    CHECK(methods.count(m) == 1);
  }
  CHECK(stream.Finish().ok());
}

TEST_CASE("AdminService reports group commit counters", "[daemon][admin]") {
  Daemon daemon;
  std::vector<v1::IngestAtomRequest> batch;
  for (int i = 0; i < 25; ++i) batch.push_back(TextAtom("admin " + std::to_string(i)));
  v1::IngestAtomsResponse response;
  REQUIRE(daemon.client().IngestAtoms(batch, &response).ok());
  v1::ServerStats stats;
  REQUIRE(daemon.client().GetServerStats(&stats).ok());
  CHECK(stats.commits() >= 1);
  CHECK(stats.items_written() == 25);
  CHECK(stats.schema_version() == 5);
  bool saw_atoms = false;
  for (const auto& t : stats.tables()) {
    if (t.name() == "atoms") {
      saw_atoms = true;
      CHECK(t.entries() == 25);
    }
  }
  CHECK(saw_atoms);
}
