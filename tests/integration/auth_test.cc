// API keys and roles: every method of every service against every kind of
// caller, the key RPCs, server reflection, health, the CLI and the start-up
// rule for non-loopback addresses.
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon_harness.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "hartonomous/v1/auth.pb.h"
#include "raw_rpc.h"
#include "reflection_util.h"
#include "sanitizer.h"
#include "test_util.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

const std::string kBootstrapKey = "bootstrap-admin-key-0123456789abcdef0123";

const char* const kServices[] = {"hartonomous.v1.AtomService", "hartonomous.v1.SearchService",
                                 "hartonomous.v1.ModelService", "hartonomous.v1.InferenceService",
                                 "hartonomous.v1.AdminService"};

std::vector<const google::protobuf::MethodDescriptor*> AllMethods() {
  std::vector<const google::protobuf::MethodDescriptor*> methods;
  for (const char* name : kServices) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    REQUIRE(service != nullptr);
    for (int i = 0; i < service->method_count(); ++i) methods.push_back(service->method(i));
  }
  return methods;
}

int RequiredRole(const google::protobuf::MethodDescriptor& method) {
  return static_cast<int>(method.options().GetExtension(v1::required_role));
}

// A daemon with the bootstrap admin key, whose client() sends it.
Daemon::Options WithBootstrapKey() {
  Daemon::Options options;
  options.extra_args = {"--admin-key", kBootstrapKey};
  options.client.api_key = kBootstrapKey;
  return options;
}

std::string Bearer(const std::string& token) { return "Bearer " + token; }

Client KeyClient(const Daemon& daemon, const std::string& key) {
  ClientOptions options;
  options.target = daemon.address();
  options.api_key = key;
  return Client(options);
}

std::string CreateKey(Client& admin, const std::string& name, v1::Role role) {
  v1::CreateApiKeyResponse created;
  const grpc::Status status = admin.CreateApiKey(name, role, &created);
  REQUIRE(status.ok());
  CHECK(created.key().name() == name);
  CHECK(created.key().role() == role);
  CHECK(created.key().key_id() > 0);
  CHECK(created.token().size() == 85);
  return created.token();
}

}  // namespace

TEST_CASE("every method states the role it requires", "[auth]") {
  for (const auto* method : AllMethods()) {
    INFO(method->full_name());
    CHECK(method->options().HasExtension(v1::required_role));
    CHECK(RequiredRole(*method) >= v1::ROLE_READ);
  }
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  auto role_of = [&](const char* name) { return RequiredRole(*pool->FindMethodByName(name)); };
  CHECK(role_of("hartonomous.v1.AtomService.GetAtom") == v1::ROLE_READ);
  CHECK(role_of("hartonomous.v1.SearchService.Search") == v1::ROLE_READ);
  CHECK(role_of("hartonomous.v1.AtomService.IngestAtoms") == v1::ROLE_WRITE);
  CHECK(role_of("hartonomous.v1.ModelService.ImportModel") == v1::ROLE_WRITE);
  CHECK(role_of("hartonomous.v1.AdminService.Compact") == v1::ROLE_ADMIN);
  CHECK(role_of("hartonomous.v1.AdminService.CreateApiKey") == v1::ROLE_ADMIN);
  CHECK(role_of("hartonomous.v1.AtomService.PurgeInactive") == v1::ROLE_ADMIN);
}

TEST_CASE("role matrix: every RPC x no key, bad keys, a revoked key and each role", "[auth]") {
  Daemon daemon(WithBootstrapKey());
  Client& admin = daemon.client();
  std::map<int, std::string> by_role = {
      {v1::ROLE_READ, CreateKey(admin, "reader", v1::ROLE_READ)},
      {v1::ROLE_WRITE, CreateKey(admin, "writer", v1::ROLE_WRITE)},
      {v1::ROLE_ADMIN, CreateKey(admin, "admin2", v1::ROLE_ADMIN)}};
  const std::string revoked_token = CreateKey(admin, "gone", v1::ROLE_ADMIN);
  v1::ListApiKeysResponse listed;
  REQUIRE(admin.ListApiKeys(&listed).ok());
  REQUIRE(listed.keys_size() == 4);
  v1::ApiKey revoked;
  REQUIRE(admin.RevokeApiKey(listed.keys(3).key_id(), &revoked).ok());
  CHECK(revoked.name() == "gone");
  CHECK(revoked.has_revoked_at());

  // A well-formed token of an existing key id with a wrong secret.
  std::string forged = by_role[v1::ROLE_ADMIN];
  forged.back() = forged.back() == '0' ? '1' : '0';
  const std::vector<std::pair<std::string, std::string>> unknown_callers = {
      {"no key", ""},
      {"not Bearer", "Basic " + kBootstrapKey},
      {"garbage token", Bearer("not-a-key")},
      {"forged secret", Bearer(forged)},
      {"revoked key", Bearer(revoked_token)},
  };
  const auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
  // Refused callers first: they change nothing.
  const auto before = TableEntries(admin);
  int calls = 0;
  for (const auto* method : AllMethods()) {
    INFO(method->full_name());
    for (const auto& [what, authorization] : unknown_callers) {
      INFO(what);
      const grpc::Status status = CallMethodWithBytes(channel, *method, "", authorization);
      CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
      CHECK_THAT(status.error_message(), Catch::Contains("authorization"));
      ++calls;
    }
    for (const auto& [role, token] : by_role) {
      if (role >= RequiredRole(*method)) continue;
      INFO("role " << role);
      const grpc::Status status = CallMethodWithBytes(channel, *method, "", Bearer(token));
      CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
      CHECK_THAT(status.error_message(),
                 Catch::Contains("has role") && Catch::Contains(method->name() + " requires"));
      ++calls;
    }
  }
  CHECK(TableEntries(admin) == before);
  // Then the allowed ones (empty requests: most are INVALID_ARGUMENT, none
  // is refused for its key).
  for (const auto* method : AllMethods()) {
    INFO(method->full_name());
    std::vector<std::string> allowed = {Bearer(kBootstrapKey)};
    for (const auto& [role, token] : by_role) {
      if (role >= RequiredRole(*method)) allowed.push_back(Bearer(token));
    }
    for (const std::string& authorization : allowed) {
      const grpc::Status status = CallMethodWithBytes(channel, *method, "", authorization);
      CHECK(status.error_code() != grpc::StatusCode::UNAUTHENTICATED);
      CHECK(status.error_code() != grpc::StatusCode::PERMISSION_DENIED);
      ++calls;
    }
  }
  CHECK(calls > 400);

  // Health stays open.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse answer;
  REQUIRE(health->Check(&context, grpc::health::v1::HealthCheckRequest(), &answer).ok());
  CHECK(answer.status() == grpc::health::v1::HealthCheckResponse::SERVING);
}

// The daemon's resident memory in bytes (VmRSS of /proc/PID/status).
uint64_t ResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  throw std::runtime_error("no VmRSS line for pid " + std::to_string(pid));
}

TEST_CASE("a refused call frees its parsed request: refusals keep no memory", "[auth]") {
  Daemon daemon(WithBootstrapKey());
  const std::string reader = CreateKey(daemon.client(), "reader", v1::ROLE_READ);
  const auto* ingest = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      "hartonomous.v1.AtomService.IngestAtom");
  REQUIRE(ingest != nullptr);
  // 4 MiB in a string field: the parsed request holds it on the heap.
  const std::string request = TextAtom(std::string(size_t{4} << 20, 'x')).SerializeAsString();
  const auto channel = grpc::CreateChannel(daemon.address(), grpc::InsecureChannelCredentials());
  auto refuse = [&](int times) {
    for (int i = 0; i < times; ++i) {
      const grpc::Status anonymous = CallMethodWithBytes(channel, *ingest, request, "");
      CHECK(anonymous.error_code() == grpc::StatusCode::UNAUTHENTICATED);
      const grpc::Status read_only = CallMethodWithBytes(channel, *ingest, request, Bearer(reader));
      CHECK(read_only.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    }
  };
  refuse(4);  // the allocator's and the transport's working set
  const uint64_t baseline = ResidentBytes(daemon.pid());
  // 48 more refusals of 4 MiB each: 192 MiB if each kept its request.
  refuse(24);
  if (!kAddressSanitized) CHECK(ResidentBytes(daemon.pid()) < baseline + (uint64_t{64} << 20));
  v1::ServerStats stats;
  CHECK(daemon.client().GetServerStats(&stats).ok());
}

TEST_CASE("keys survive a restart, the first key turns authentication on, revoking sticks",
          "[auth]") {
  Daemon daemon;  // no bootstrap key: open on loopback
  Client& open = daemon.client();
  v1::ServerStats stats;
  REQUIRE(open.GetServerStats(&stats).ok());  // no key needed yet
  const std::string writer = CreateKey(open, "ingester", v1::ROLE_WRITE);
  // From now on a key is needed.
  grpc::Status refused = open.GetServerStats(&stats);
  CHECK(refused.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  Client with_key = KeyClient(daemon, writer);
  v1::IngestAtomRequest atom;
  atom.set_content("kept across restarts");
  atom.set_modality("text");
  v1::IngestAtomResponse ingested;
  REQUIRE(with_key.IngestAtom(atom, &ingested).ok());
  // A write key cannot manage keys.
  v1::CreateApiKeyResponse denied;
  CHECK(with_key.CreateApiKey("other", v1::ROLE_ADMIN, &denied).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  daemon.Kill9();
  daemon.Start();
  Client after_restart = KeyClient(daemon, writer);
  v1::Atom got;
  REQUIRE(after_restart.GetAtom(ingested.atom_id(), false, &got).ok());
  CHECK(daemon.client().GetServerStats(&stats).error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("key RPCs reject bad input naming the field", "[auth]") {
  Daemon daemon(WithBootstrapKey());
  Client& admin = daemon.client();
  v1::CreateApiKeyResponse created;
  grpc::Status status = admin.CreateApiKey("", v1::ROLE_READ, &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::StartsWith("name:"));
  status = admin.CreateApiKey("has space", v1::ROLE_READ, &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  status = admin.CreateApiKey(std::string(65, 'a'), v1::ROLE_READ, &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  status = admin.CreateApiKey("ok", v1::ROLE_UNSPECIFIED, &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::StartsWith("role:"));
  status = admin.CreateApiKey("ok", static_cast<v1::Role>(7), &created);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CreateKey(admin, "ok", v1::ROLE_READ);
  status = admin.CreateApiKey("ok", v1::ROLE_WRITE, &created);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK_THAT(status.error_message(), Catch::StartsWith("name:"));
  v1::ApiKey key;
  status = admin.RevokeApiKey(0, &key);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  status = admin.RevokeApiKey(999, &key);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(status.error_message(), Catch::StartsWith("key_id:"));
  v1::ListApiKeysResponse listed;
  REQUIRE(admin.ListApiKeys(&listed).ok());
  CHECK(listed.keys_size() == 1);
}

TEST_CASE("server reflection needs a read key", "[auth][reflection]") {
  Daemon daemon(WithBootstrapKey());
  const std::string reader = CreateKey(daemon.client(), "reader", v1::ROLE_READ);
  const char* kMethod = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
  auto request = NewReflectionMessage("ServerReflectionRequest");
  auto response = NewReflectionMessage("ServerReflectionResponse");
  SetString(request.get(), "list_services", "");
  {
    RawBidiStream refused(daemon.client().channel(), kMethod, Bearer("wrong"));
    REQUIRE(refused.Write(*request));
    REQUIRE(refused.Read(response.get()));
    CHECK_FALSE(Has(*response, "list_services_response"));
    REQUIRE(Has(*response, "error_response"));
    const Message& error = Get(*response, "error_response");
    CHECK(error.GetReflection()->GetInt32(error, FieldOf(error, "error_code")) ==
          static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
    CHECK(refused.Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  RawBidiStream allowed(daemon.client().channel(), kMethod, Bearer(reader));
  REQUIRE(allowed.Write(*request));
  REQUIRE(allowed.Read(response.get()));
  REQUIRE(Has(*response, "list_services_response"));
  CHECK(Messages(Get(*response, "list_services_response"), "service").size() >= 5);
  CHECK(allowed.Finish().ok());
}

TEST_CASE("cli: keys create, list and revoke, with --api-key-file and HARTONOMOUS_API_KEY",
          "[auth][cli]") {
  Daemon::Options options;
  options.extra_args = {"--admin-key", kBootstrapKey};
  Daemon daemon(options);
  TempDir dir;
  const std::string admin_file = dir.path() + "/admin.key";
  std::ofstream(admin_file) << kBootstrapKey << "\n";
  auto cli = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {CliPath(), "--server", daemon.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  };
  // Without a key: UNAUTHENTICATED, exit 1.
  ProcessResult no_key = cli({"stats"});
  CHECK(no_key.exit_code == 1);
  CHECK_THAT(no_key.err, Catch::Contains("UNAUTHENTICATED"));

  ProcessResult created = cli(
      {"--api-key-file", admin_file, "--json", "keys", "create", "ci-reader", "--role", "read"});
  REQUIRE(created.exit_code == 0);
  const nlohmann::json key = nlohmann::json::parse(created.out);
  CHECK(key["role"] == "read");
  const std::string token = key["token"];
  const std::string reader_file = dir.path() + "/reader.key";
  std::ofstream(reader_file) << token;

  ProcessResult stats = cli({"--api-key-file", reader_file, "stats"});
  CHECK(stats.exit_code == 0);
  ProcessResult denied = cli({"--api-key-file", reader_file, "keys", "list"});
  CHECK(denied.exit_code == 1);
  CHECK_THAT(denied.err, Catch::Contains("PERMISSION_DENIED"));

  // The environment variable, through env(1).
  ProcessResult listed = RunProcess({"/usr/bin/env", "HARTONOMOUS_API_KEY=" + kBootstrapKey,
                                     CliPath(), "--server", daemon.address(), "keys", "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK_THAT(listed.out, Catch::Contains("ci-reader"));
  const std::string id = std::to_string(key["key_id"].get<uint64_t>());
  ProcessResult revoked = cli({"--api-key-file", admin_file, "--json", "keys", "revoke", id});
  REQUIRE(revoked.exit_code == 0);
  CHECK(nlohmann::json::parse(revoked.out)["revoked_at"].is_string());
  ProcessResult after = cli({"--api-key-file", reader_file, "stats"});
  CHECK(after.exit_code == 1);
  CHECK_THAT(after.err, Catch::Contains("revoked"));

  ProcessResult bad_role =
      cli({"--api-key-file", admin_file, "keys", "create", "x", "--role", "root"});
  CHECK(bad_role.exit_code == 2);
  ProcessResult missing = cli({"--api-key-file", dir.path() + "/none", "stats"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Catch::Contains("--api-key-file"));
}

TEST_CASE("a non-loopback address without keys refuses to start unless --insecure", "[auth]") {
  TempDir data;
  const ProcessResult refused = RunProcess(
      {DaemonPath(), "--data-dir", data.path(), "--listen", "0.0.0.0:0", "--log-level", "error"});
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err + refused.out,
             Catch::Contains("not a loopback address") && Catch::Contains("--insecure"));
  const ProcessResult short_key = RunProcess(
      {DaemonPath(), "--data-dir", data.path(), "--admin-key", "too-short", "--print-config"});
  CHECK(short_key.exit_code == 2);
  CHECK_THAT(short_key.err, Catch::Contains("--admin-key"));
}
