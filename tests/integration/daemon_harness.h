// Test harness: runs the real hartonomousd binary on an ephemeral loopback
// port with a temporary data directory, and real child processes (the CLI).
//
// Thread-safety: none; one test thread owns a Daemon.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hartonomous/client.h"

namespace hartonomous::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ProcessResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv to completion, feeding stdin_data on its standard input.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data = "");

// Path of a built program named by the build (HARTONOMOUSD_PATH etc.).
std::string DaemonPath();
std::string CliPath();

class Daemon {
 public:
  struct Options {
    std::string data_dir;                 // empty = a fresh TempDir
    std::vector<std::string> extra_args;  // e.g. {"--max-content-bytes", "1024"}
    // What client() uses besides the address (API key, TLS).
    ClientOptions client;
  };
  // Starts hartonomousd --listen 127.0.0.1:0 and waits until it is SERVING.
  // Throws std::runtime_error (which fails the test) when it cannot.
  Daemon() : Daemon(Options{}) {}
  explicit Daemon(Options options);
  ~Daemon();  // SIGTERM, then waits for the process
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  const std::string& address() const { return address_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  // The daemon's stderr (its log), appended across restarts.
  const std::string& log_path() const { return log_path_; }
  Client& client() { return *client_; }

  // SIGKILL, no clean shutdown.
  void Kill9();
  // SIGTERM and wait; returns the exit status.
  int Stop();
  // Sends a signal without waiting.
  void Signal(int sig);
  // Waits for the process to exit; returns the exit status.
  int Wait();
  // Starts again on the same data dir (a new port) and waits until SERVING.
  void Start();
  // Starts again on the same data dir with extra_args added for this start
  // only, and returns once the daemon listens (it may still be starting:
  // health NOT_SERVING). client() is ready to use.
  void StartListening(const std::vector<std::string>& extra_args = {});

 private:
  Options options_;
  std::unique_ptr<TempDir> owned_dir_;
  TempDir log_dir_;
  std::string log_path_;
  std::string data_dir_;
  std::string address_;
  pid_t pid_ = -1;
  std::unique_ptr<Client> client_;
};

// Writers racing a kill -9: starts `writers` threads, each with a client of
// its own, running write(w, client, ack) (which writes until a call fails,
// the daemon being gone, and calls ack() once per acknowledged write); once
// ack() has been called `acks` times in all, or every writer has returned,
// sets *killed (when given), kill -9s the daemon, joins the writers and
// starts the daemon again. Returns the acknowledgements counted before the
// kill (fewer than `acks` only when every writer returned first).
struct KillDuringWritesOptions {
  int writers = 1;
  int acks = 1;
  std::chrono::milliseconds timeout{10000};  // each writer client's deadline
  bool own_connection = false;               // a TCP connection per writer
  std::atomic<bool>* killed = nullptr;       // set just before the kill
};
int KillDuringWrites(
    Daemon& daemon, const KillDuringWritesOptions& options,
    const std::function<void(int w, Client& client, const std::function<void()>& ack)>& write);

// The same with the default options: `writers` writers, kill after `acks`.
void KillDuringWrites(
    Daemon& daemon, int writers, int acks,
    const std::function<void(int w, Client& client, const std::function<void()>& ack)>& write);

}  // namespace hartonomous::testing
