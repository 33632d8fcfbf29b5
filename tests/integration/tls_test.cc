// TLS and mutual TLS on the gRPC port: handshakes with the right CA, a wrong
// CA, expired certificates and no client certificate; certificate rotation
// without a restart; start-up refusals; the CLI's TLS flags. Certificates
// are made in the test with OpenSSL (test_certs.h).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>

#include "daemon_harness.h"
#include "test_certs.h"

using namespace hartonomous;
using namespace hartonomous::testing;

namespace {

ClientOptions TlsClient(const std::string& target, const Pem& ca, const Pem* client = nullptr);

// The CA, the server's certificate and files for them in a temp dir.
struct TlsSetup {
  TempDir dir;
  Pem ca = MakeCertificate("Hartonomous Test CA", nullptr, true);
  Pem server = MakeCertificate("hartonomousd", &ca, false);
  std::string ca_file = dir.path() + "/ca.pem";
  std::string cert_file = dir.path() + "/server.pem";
  std::string key_file = dir.path() + "/server.key";

  TlsSetup() {
    WriteTextFile(ca_file, ca.cert);
    WriteTextFile(cert_file, server.cert);
    WriteTextFile(key_file, server.key);
  }
  // Replaces the server's pair while it runs: key first, then certificate,
  // each by a rename as deployment tools do (gRPC keeps the old pair until
  // the two match).
  void Install(const Pem& pair) const {
    WriteTextFile(key_file + ".new", pair.key);
    WriteTextFile(cert_file + ".new", pair.cert);
    REQUIRE(std::rename((key_file + ".new").c_str(), key_file.c_str()) == 0);
    REQUIRE(std::rename((cert_file + ".new").c_str(), cert_file.c_str()) == 0);
  }
  // A daemon serving these files, rereading them every second, whose
  // client() trusts the CA.
  Daemon::Options ReloadingDaemon() const {
    Daemon::Options options;
    options.extra_args = ServerArgs();
    options.extra_args.insert(options.extra_args.end(), {"--tls-reload-seconds", "1"});
    options.client = TlsClient("", ca);
    return options;
  }
  std::vector<std::string> ServerArgs() const {
    return {"--tls-cert-file", cert_file, "--tls-key-file", key_file};
  }
};

ClientOptions TlsClient(const std::string& target, const Pem& ca, const Pem* client) {
  ClientOptions options;
  options.target = target;
  options.own_connection = true;
  options.timeout = std::chrono::seconds(10);
  options.tls = true;
  options.tls_root_certs = ca.cert;
  if (client != nullptr) {
    options.tls_cert_chain = client->cert;
    options.tls_private_key = client->key;
  }
  return options;
}

grpc::Status Stats(const ClientOptions& options) {
  Client client(options);
  v1::ServerStats stats;
  return client.GetServerStats(&stats);
}

// The common name of the certificate the server presents to a new
// connection; "" when the call fails.
std::string ServedCommonName(const ClientOptions& options) {
  auto stub = v1::AdminService::NewStub(CreateClientChannel(options));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ServerStats stats;
  if (!stub->GetStats(&context, v1::GetStatsRequest(), &stats).ok()) return "";
  const auto names = context.auth_context()->FindPropertyValues("x509_common_name");
  return names.empty() ? "" : std::string(names.front().data(), names.front().size());
}

}  // namespace

TEST_CASE("TLS: the right CA connects, plaintext and a wrong CA do not", "[tls]") {
  TlsSetup tls;
  Daemon::Options options;
  options.extra_args = tls.ServerArgs();
  options.client = TlsClient("", tls.ca);
  Daemon daemon(options);  // waits for SERVING over TLS
  CHECK(Stats(TlsClient(daemon.address(), tls.ca)).ok());
  CHECK(ServedCommonName(TlsClient(daemon.address(), tls.ca)) == "hartonomousd");

  ClientOptions plaintext;
  plaintext.target = daemon.address();
  plaintext.timeout = std::chrono::seconds(10);
  CHECK(Stats(plaintext).error_code() == grpc::StatusCode::UNAVAILABLE);

  const Pem other_ca = MakeCertificate("Another CA", nullptr, true);
  CHECK(Stats(TlsClient(daemon.address(), other_ca)).error_code() == grpc::StatusCode::UNAVAILABLE);
  // A client certificate is not asked for without --tls-client-ca-file.
  const Pem client = MakeCertificate("client", &other_ca, false);
  CHECK(Stats(TlsClient(daemon.address(), tls.ca, &client)).ok());
}

TEST_CASE("TLS: an expired server certificate is refused by the client", "[tls]") {
  TlsSetup tls;
  Daemon daemon(tls.ReloadingDaemon());
  REQUIRE(Stats(TlsClient(daemon.address(), tls.ca)).ok());
  // The server is given an expired pair (as a rotation gone wrong would);
  // once it serves it, clients refuse the handshake.
  const Pem expired = MakeCertificate("hartonomousd", &tls.ca, false, -7200, -3600);
  tls.Install(expired);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  grpc::Status status;
  while (std::chrono::steady_clock::now() < deadline) {
    status = Stats(TlsClient(daemon.address(), tls.ca));
    if (!status.ok()) break;
  }
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("mutual TLS: a client certificate from the CA is required", "[tls]") {
  TlsSetup tls;
  const Pem client = MakeCertificate("client", &tls.ca, false);
  Daemon::Options options;
  options.extra_args = tls.ServerArgs();
  options.extra_args.insert(options.extra_args.end(), {"--tls-client-ca-file", tls.ca_file});
  options.client = TlsClient("", tls.ca, &client);
  Daemon daemon(options);
  CHECK(Stats(TlsClient(daemon.address(), tls.ca, &client)).ok());
  // No client certificate.
  CHECK(Stats(TlsClient(daemon.address(), tls.ca)).error_code() == grpc::StatusCode::UNAVAILABLE);
  // One from another CA.
  const Pem other_ca = MakeCertificate("Another CA", nullptr, true);
  const Pem stranger = MakeCertificate("stranger", &other_ca, false);
  CHECK(Stats(TlsClient(daemon.address(), tls.ca, &stranger)).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  // An expired one from the right CA.
  const Pem expired = MakeCertificate("client", &tls.ca, false, -7200, -3600);
  CHECK(Stats(TlsClient(daemon.address(), tls.ca, &expired)).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("TLS: a rotated certificate is served without a restart", "[tls]") {
  TlsSetup tls;
  Daemon daemon(tls.ReloadingDaemon());
  const pid_t pid = daemon.pid();
  REQUIRE(ServedCommonName(TlsClient(daemon.address(), tls.ca)) == "hartonomousd");

  const Pem rotated = MakeCertificate("hartonomousd-rotated", &tls.ca, false);
  tls.Install(rotated);
  // New connections see the new certificate once the daemon has reread the
  // files; each probe is a full handshake.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string served;
  while (std::chrono::steady_clock::now() < deadline) {
    served = ServedCommonName(TlsClient(daemon.address(), tls.ca));
    if (served == "hartonomousd-rotated") break;
  }
  CHECK(served == "hartonomousd-rotated");
  CHECK(daemon.pid() == pid);
  CHECK(Stats(TlsClient(daemon.address(), tls.ca)).ok());
}

TEST_CASE("TLS: bad files stop the start naming the setting", "[tls]") {
  TlsSetup tls;
  TempDir data;
  auto start = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {DaemonPath(), "--data-dir", data.path(), "--listen",
                                     "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  };
  const Pem other = MakeCertificate("other", &tls.ca, false);
  const std::string other_key = tls.dir.path() + "/other.key";
  WriteTextFile(other_key, other.key);
  ProcessResult mismatch = start({"--tls-cert-file", tls.cert_file, "--tls-key-file", other_key});
  CHECK(mismatch.exit_code != 0);
  CHECK_THAT(mismatch.err, Catch::Contains("--tls-key-file") &&
                               Catch::Contains("does not belong to the certificate"));
  ProcessResult missing =
      start({"--tls-cert-file", tls.dir.path() + "/none.pem", "--tls-key-file", tls.key_file});
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("--tls-cert-file") && Catch::Contains("cannot read"));
  ProcessResult not_pem = start({"--tls-cert-file", tls.key_file, "--tls-key-file", tls.key_file});
  CHECK(not_pem.exit_code != 0);
  CHECK_THAT(not_pem.err, Catch::Contains("no PEM certificate"));
  ProcessResult half = start({"--tls-cert-file", tls.cert_file});
  CHECK(half.exit_code == 2);
  CHECK_THAT(half.err, Catch::Contains("both or neither"));
  ProcessResult ca_alone = start({"--tls-client-ca-file", tls.ca_file});
  CHECK(ca_alone.exit_code == 2);
}

TEST_CASE("cli: --tls-ca and HARTONOMOUS_TLS_* connect over TLS", "[tls][cli]") {
  TlsSetup tls;
  const Pem client = MakeCertificate("cli", &tls.ca, false);
  const std::string client_cert = tls.dir.path() + "/client.pem";
  const std::string client_key = tls.dir.path() + "/client.key";
  WriteTextFile(client_cert, client.cert);
  WriteTextFile(client_key, client.key);
  Daemon::Options options;
  options.extra_args = tls.ServerArgs();
  options.extra_args.insert(options.extra_args.end(), {"--tls-client-ca-file", tls.ca_file});
  options.client = TlsClient("", tls.ca, &client);
  Daemon daemon(options);
  ProcessResult ok =
      RunProcess({CliPath(), "--server", daemon.address(), "--tls-ca", tls.ca_file, "--tls-cert",
                  client_cert, "--tls-key", client_key, "server-stats"});
  CHECK(ok.exit_code == 0);
  ProcessResult from_env = RunProcess(
      {"/usr/bin/env", "HARTONOMOUS_TLS_CA=" + tls.ca_file, "HARTONOMOUS_TLS_CERT=" + client_cert,
       "HARTONOMOUS_TLS_KEY=" + client_key, CliPath(), "--server", daemon.address(), "health"});
  CHECK(from_env.exit_code == 0);
  ProcessResult no_cert = RunProcess({CliPath(), "--server", daemon.address(), "--timeout", "5",
                                      "--tls-ca", tls.ca_file, "server-stats"});
  CHECK(no_cert.exit_code == 1);
  ProcessResult half = RunProcess({CliPath(), "--server", daemon.address(), "--tls-ca", tls.ca_file,
                                   "--tls-cert", client_cert, "server-stats"});
  CHECK(half.exit_code == 2);
  CHECK_THAT(half.err, Catch::Contains("TLS"));
}
