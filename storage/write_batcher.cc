#include "storage/write_batcher.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>

namespace hartonomous::storage {

WriteBatcher::WriteBatcher(Env& env, WriterOptions options)
    : env_(env), options_(options), thread_([this] { Run(); }) {}

WriteBatcher::~WriteBatcher() { Stop(); }

void WriteBatcher::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

WriterStats WriteBatcher::stats() const {
  return WriterStats{commits_.load(), requests_.load(), items_.load(), retries_.load(),
                     joined_.load()};
}

Status WriteBatcher::Write(WriteFn fn, size_t bytes, uint64_t items) {
  Request request{std::move(fn), nullptr, false, bytes, items, Status::Ok(), nullptr, nullptr};
  return Submit(request);
}

void WriteBatcher::WriteAsync(WriteFn fn, Completion done, size_t bytes, uint64_t items) {
  auto request = std::make_unique<Request>(
      Request{std::move(fn), nullptr, false, bytes, items, Status::Ok(), nullptr, std::move(done)});
  if (Enqueue(request.get())) {
    request.release();  // owned by the queue until the writer completes it
    return;
  }
  request->completion(Status::Unavailable("storage: the writer is shutting down"));
}

Status WriteBatcher::WriteBackground(WriteFn fn, size_t bytes, uint64_t items) {
  Request request{std::move(fn), nullptr, true, bytes, items, Status::Ok(), nullptr, nullptr};
  return Submit(request);
}

Status WriteBatcher::RunExclusive(std::function<Status()> fn) {
  Request request{nullptr, std::move(fn), false, 0, 0, Status::Ok(), nullptr, nullptr};
  return Submit(request);
}

bool WriteBatcher::Enqueue(Request* request) {
  {
    MutexLock lock(&mu_);
    if (stopping_) return false;
    queue_.push_back(request);
    if (!request->background) foreground_queued_.fetch_add(1, std::memory_order_relaxed);
  }
  cv_.Signal();
  return true;
}

Status WriteBatcher::Submit(Request& request) {
  std::promise<void> waiter;
  request.waiter = &waiter;
  auto done = waiter.get_future();
  if (!Enqueue(&request)) return Status::Unavailable("storage: the writer is shutting down");
  done.wait();
  return request.status;
}

void WriteBatcher::Run() {
  std::vector<Request*> group;
  while (true) {
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping, and nothing left to do
      size_t bytes = 0;
      // An exclusive request goes alone; a group stops before one.
      MoveFront(group, bytes);
      if (!group.front()->exclusive) TakeWithinLimits(group, bytes);
    }
    if (group.front()->exclusive) {
      group.front()->status = group.front()->exclusive();
    } else {
      CommitGroup(group);
    }
    for (Request* r : group) {
      if (r->completion) {
        std::unique_ptr<Request> owned(r);
        owned->completion(std::move(owned->status));
      } else {
        r->waiter->set_value();
      }
    }
    group.clear();
  }
}

Status WriteBatcher::CommitEpoch() {
  WriteTxn txn(env_, nullptr);
  HT_RETURN_IF_ERROR(txn.status());
  const uint64_t epoch = ++epoch_;
  std::string value(8, '\0');
  for (int i = 0; i < 8; ++i) value[i] = static_cast<char>(epoch >> (56 - 8 * i));
  HT_RETURN_IF_ERROR(txn.Put(options_.meta_table, kWriterEpochKey, value));
  return txn.Commit();
}

void WriteBatcher::MoveFront(std::vector<Request*>& group, size_t& bytes) {
  bytes += queue_.front()->bytes;
  group.push_back(queue_.front());
  queue_.pop_front();
  if (!group.back()->background) foreground_queued_.fetch_sub(1, std::memory_order_relaxed);
}

void WriteBatcher::TakeWithinLimits(std::vector<Request*>& group, size_t& bytes) {
  while (!queue_.empty() && group.size() < options_.max_group_requests &&
         !queue_.front()->exclusive && bytes + queue_.front()->bytes <= options_.max_group_bytes) {
    MoveFront(group, bytes);
  }
}

void WriteBatcher::TakeQueued(std::vector<Request*>& group, size_t& bytes) {
  MutexLock lock(&mu_);
  const size_t before = group.size();
  TakeWithinLimits(group, bytes);
  joined_ += group.size() - before;
}

void WriteBatcher::CommitGroup(std::vector<Request*>& group) {
  const auto began = std::chrono::steady_clock::now();
  bool made_room = false;  // the epoch commit ran once for this group
  bool background = false;
  size_t bytes = 0;
  for (const Request* r : group) {
    background = background || r->background;
    bytes += r->bytes;
  }
  while (true) {
    WriteTxn txn(env_, nullptr);
    if (!txn.status().ok()) {
      for (Request* r : group) r->status = txn.status();
      return;
    }
    bool map_full = false;
    Status no_space;  // set when a write or the commit found the disk full
    // A lone request runs directly in the group transaction, with no child
    // (no sibling to protect), unless it is background work that others
    // may join.
    const bool single = group.size() == 1 && !background;
    // Indexes, not iterators: requests queued during a background request
    // join the group at its end.
    for (size_t i = 0; i < group.size(); ++i) {
      Request* r = group[i];
      if (single) {
        // No sibling to protect: run directly in the group transaction.
        r->status = r->fn(txn);
        map_full = txn.map_full();
        if (txn.no_space()) no_space = r->status;
        break;
      }
      WriteTxn child(env_, &txn);
      r->status = child.status().ok() ? r->fn(child) : child.status();
      if (child.map_full()) {
        map_full = true;
        break;
      }
      if (r->status.ok()) {
        r->status = child.Commit();
        if (child.map_full()) {
          map_full = true;
          break;
        }
      }
      if (child.no_space()) {
        no_space = r->status;
        break;
      }
      if (background && i + 1 == group.size()) TakeQueued(group, bytes);
    }
    Status commit;
    std::vector<std::function<void()>> hooks;
    if (!map_full && no_space.ok()) {
      if (single && !group.front()->status.ok()) {
        txn.Abort();
        return;
      }
      hooks = txn.TakeOnCommit();
      commit = txn.Commit();
      map_full = txn.map_full();
      if (txn.no_space()) no_space = commit;
    } else {
      txn.Abort();
    }
    if (map_full) {
      Status grown = env_.Grow();
      if (!grown.ok()) {
        for (Request* r : group) r->status = grown;
        return;
      }
      ++retries_;
      continue;
    }
    if (!no_space.ok()) {
      // Pages freed by the last commit (a purge) are reusable only after one
      // more commit: make it, and run the group once more.
      if (!made_room && options_.meta_table != 0) {
        made_room = true;
        Status epoch = CommitEpoch();
        if (epoch.ok()) {
          ++retries_;
          continue;
        }
        spdlog::warn("storage: writer epoch commit on a full disk failed: {}", epoch.ToString());
      }
      spdlog::error("storage: group commit failed: {}", no_space.ToString());
      for (Request* r : group) r->status = no_space;
      return;
    }
    if (!commit.ok()) {
      spdlog::error("storage: group commit failed: {}", commit.ToString());
      for (Request* r : group) r->status = commit;
      return;
    }
    ++commits_;
    requests_ += group.size();
    for (Request* r : group) {
      if (r->status.ok()) items_ += r->items;
    }
    for (auto& hook : hooks) hook();
    if (options_.on_commit) {
      options_.on_commit(
          group.size(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    }
    return;
  }
}

}  // namespace hartonomous::storage
