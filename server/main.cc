// hartonomousd: parses the flags, sets up logging and runs the Daemon
// (server/daemon.h), which builds storage -> engines -> rpc, listens, catches
// the vector indexes up with LMDB and serves until SIGINT/SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "server/daemon.h"
#include "server/daemon_config.h"
#include "server/logging.h"
#include "server/version.h"

namespace hartonomous {
namespace {

int Fail(const Status& status) {
  std::cerr << "hartonomousd: " << status.message() << std::endl;
  return 1;
}

}  // namespace
}  // namespace hartonomous

int main(int argc, char** argv) {
  using namespace hartonomous;
  // Block the stop signals in every thread; the daemon reads them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  auto config = LoadDaemonConfig(std::vector<std::string>(argv + 1, argv + argc), environment,
                                 ReadConfigFile);
  if (!config.ok()) {
    std::cerr << "hartonomousd: " << config.status().message() << "\n";
    return 2;
  }
  if (config->help) {
    std::cout << DaemonUsage();
    return 0;
  }
  if (config->print_config) {
    std::cout << FormatDaemonConfig(*config);
    return 0;
  }
  if (config->version) {
    std::cout << "hartonomousd " << kVersion << "\n";
    return 0;
  }
  SetUpLogging(config->log_level, config->log_format);
  auto daemon = Daemon::Start(*config);
  if (!daemon.ok()) return Fail(daemon.status());
  return (*daemon)->Run();
}
