// What the config store's tests share: a settable clock, a temporary directory, sample configs.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

#include "hermes/common/clock.h"
#include "hermes/v1/config.pb.h"

namespace hermes::controlplane {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point start) : now_(start) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  void Advance(std::chrono::system_clock::duration by) { now_ += by; }

 private:
  std::chrono::system_clock::time_point now_;
};

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string name = (std::filesystem::temp_directory_path() / "hermes-store-XXXXXX").string();
    if (mkdtemp(name.data()) != nullptr) path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A small valid config whose content depends on `name`.
inline v1::Config SampleConfig(const std::string& name) {
  v1::Config config;
  auto* listener = config.add_listeners();
  listener->set_name("main");
  listener->set_address(":8080");
  auto* cluster = config.add_clusters();
  cluster->set_name(name);
  cluster->add_endpoints()->set_address(name + ".internal:80");
  auto* route = config.add_routes();
  route->set_cluster(name);
  route->mutable_match()->set_prefix("/" + name);
  return config;
}

}  // namespace hermes::controlplane
