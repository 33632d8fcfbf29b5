#include "daemon_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace hartonomous::testing {
namespace {

constexpr int kStartTimeoutMs = 30000;

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1000;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/hartonomous-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string DaemonPath() { return HARTONOMOUSD_PATH; }
std::string CliPath() { return HARTONOMOUS_CLI_PATH; }

ProcessResult RunProcess(const std::vector<std::string>& args, const std::string& stdin_data) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    throw std::runtime_error("pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    auto argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  ProcessResult result;
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int open_outputs = 2;
  while (open_outputs > 0 || in_fd >= 0) {
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (poll(fds, in_fd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        (i == 0 ? out[0] : err[0]) = -1;
        --open_outputs;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n <= 0 || written == stdin_data.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  result.exit_code = WaitExit(pid);
  return result;
}

Daemon::Daemon(Options options)
    : options_(std::move(options)), log_path_(log_dir_.path() + "/hartonomousd.log") {
  if (options_.data_dir.empty()) {
    owned_dir_ = std::make_unique<TempDir>();
    data_dir_ = owned_dir_->path() + "/data";
  } else {
    data_dir_ = options_.data_dir;
  }
  Start();
}

Daemon::~Daemon() {
  if (pid_ <= 0) return;
  const pid_t pid = pid_;
  const int code = Stop();
  if (code == 0) return;
  // The daemon died on its own (a crash ends it with -SIGNAL) or failed to
  // stop cleanly: its log's end goes to stderr, as the log dir goes with
  // this object.
  std::ifstream log(log_path_);
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  constexpr size_t kTail = 64 * 1024;
  if (text.size() > kTail) text = "..." + text.substr(text.size() - kTail);
  std::cerr << "hartonomousd (pid " << pid << ") exited with " << code
            << " when stopped; the end of its log:\n"
            << text << std::endl;
}

void Daemon::Start() {
  StartListening();
  // The daemon listens before it has caught up; health says when it has.
  grpc::Status ready = client_->WaitUntilServing(std::chrono::milliseconds(kStartTimeoutMs));
  if (!ready.ok()) throw std::runtime_error("hartonomousd not SERVING: " + ready.error_message());
}

void Daemon::StartListening(const std::vector<std::string>& extra_args) {
  int out[2];
  if (pipe2(out, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {DaemonPath(), "--listen", "127.0.0.1:0", "--data-dir",
                                   data_dir_};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(out[1], 1);
    const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) dup2(log, 2);
    auto argv = Argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  // The daemon prints "hartonomousd listening on HOST:PORT" once it listens.
  std::string line;
  while (line.find('\n') == std::string::npos) {
    pollfd fd{out[0], POLLIN, 0};
    if (poll(&fd, 1, kStartTimeoutMs) <= 0) break;
    char buf[256];
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  const std::string prefix = "hartonomousd listening on ";
  const auto at = line.find(prefix);
  if (at == std::string::npos) {
    kill(pid_, SIGKILL);
    const int code = WaitExit(pid_);
    pid_ = -1;
    std::ifstream log(log_path_);
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    throw std::runtime_error("hartonomousd did not start (exit " + std::to_string(code) +
                             "): " + line + text);
  }
  address_ = line.substr(at + prefix.size());
  address_ = address_.substr(0, address_.find('\n'));
  ClientOptions client_options = options_.client;
  client_options.target = address_;
  client_ = std::make_unique<Client>(client_options);
}

void Daemon::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  WaitExit(pid_);
  pid_ = -1;
  client_.reset();
}

void Daemon::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int Daemon::Wait() {
  if (pid_ <= 0) return -1000;
  const int code = WaitExit(pid_);
  pid_ = -1;
  client_.reset();
  return code;
}

int Daemon::Stop() {
  if (pid_ <= 0) return -1000;
  kill(pid_, SIGTERM);
  const int code = WaitExit(pid_);
  pid_ = -1;
  client_.reset();
  return code;
}

int KillDuringWrites(
    Daemon& daemon, const KillDuringWritesOptions& options,
    const std::function<void(int w, Client& client, const std::function<void()>& ack)>& write) {
  std::mutex mu;
  std::condition_variable cv;
  int acked = 0;
  int running = options.writers;
  const std::function<void()> ack = [&] {
    std::lock_guard lock(mu);
    if (++acked == options.acks) cv.notify_all();
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < options.writers; ++w) {
    threads.emplace_back([&, w] {
      ClientOptions client_options;
      client_options.target = daemon.address();
      client_options.timeout = options.timeout;
      client_options.own_connection = options.own_connection;
      {
        Client client(client_options);
        write(w, client, ack);
      }
      std::lock_guard lock(mu);
      --running;
      cv.notify_all();
    });
  }
  int counted = 0;
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return acked >= options.acks || running == 0; });
    counted = acked;
  }
  if (options.killed != nullptr) options.killed->store(true);
  daemon.Kill9();
  for (auto& t : threads) t.join();
  daemon.Start();
  return counted;
}

void KillDuringWrites(
    Daemon& daemon, int writers, int acks,
    const std::function<void(int w, Client& client, const std::function<void()>& ack)>& write) {
  KillDuringWritesOptions options;
  options.writers = writers;
  options.acks = acks;
  KillDuringWrites(daemon, options, write);
}

}  // namespace hartonomous::testing
