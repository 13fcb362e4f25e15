// One mutex per key (a digest, a chain id), created on demand and dropped when unused, so work on
// the same blob or layer is serialised while work on different ones runs in parallel.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

namespace berth::image {

class KeyedMutex {
 public:
  // Holds the lock of one key for its lifetime.
  class Lock {
   public:
    Lock(KeyedMutex& owner, std::string key) : owner_(owner), key_(std::move(key)) {
      owner_.Acquire(key_);
    }
    ~Lock() { owner_.Release(key_); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    KeyedMutex& owner_;
    std::string key_;
  };

 private:
  void Acquire(const std::string& key) {
    std::unique_lock<std::mutex> lock(mutex_);
    released_.wait(lock, [&] { return !held_.contains(key); });
    held_.insert(key);
  }

  void Release(const std::string& key) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held_.erase(key);
    }
    released_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable released_;
  std::set<std::string> held_;
};

}  // namespace berth::image
