// Config versions: immutable rows appended by apply and rollback, read back by history, get and
// diff. SqliteVersionStore (sqlite_stores.h) keeps them on disk, MemoryVersionStore
// (memory_stores.h) in memory for unit tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/store/store_result.h"
#include "hermes/v1/config.pb.h"

namespace hermes::controlplane {

using VersionId = std::int64_t;  // 1, 2, 3, ... in order of creation; never reused
using TimePoint = std::chrono::system_clock::time_point;

// One row of the history. Never changes once written; times are kept to the microsecond.
struct ConfigVersion {
  VersionId id = 0;
  std::optional<VersionId> parent;  // the version that was current when this one was made
  std::string hash;                 // SHA-256 hex of the config's deterministic serialization
  std::string author;
  std::string message;
  TimePoint created_at;
  v1::Config config;
};

struct ApplyOutcome {
  ConfigVersion version;  // the new version, or the current one when nothing changed
  bool created = false;   // false: the content equalled the current version's; nothing was written
};

class VersionStore {
 public:
  virtual ~VersionStore() = default;

  // Stores `config` as a new version whose parent is the current one, unless its content hash
  // equals the current version's: then returns the current version with created = false.
  // Returns once the version is durable.
  virtual Result<ApplyOutcome> Apply(const v1::Config& config, std::string_view author,
                                     std::string_view message) = 0;

  // The newest version; nullopt before the first Apply.
  virtual Result<std::optional<ConfigVersion>> Current() const = 0;
  // The same without its config (id, parent, hash, author, message, time): what a check-and-set
  // or a content comparison needs, without reading the whole config back.
  virtual Result<std::optional<ConfigVersion>> CurrentHeader() const = 0;

  // kNotFound when no version has this id.
  virtual Result<ConfigVersion> Get(VersionId id) const = 0;

  // Up to `limit` versions, newest first, with ids below `before_id` when given (the next page
  // starts before the last id of this one).
  virtual Result<std::vector<ConfigVersion>> History(std::size_t limit,
                                                     std::optional<VersionId> before_id) const = 0;

  // A new version with the content of `target` and the message "rollback to v<target>". Like
  // Apply, nothing is written (created = false) when the current content already equals it.
  virtual Result<ApplyOutcome> Rollback(VersionId target, std::string_view author) = 0;
};

}  // namespace hermes::controlplane
