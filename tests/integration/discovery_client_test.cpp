// The proxy's discovery client against a scripted control plane on 127.0.0.1 (a gRPC service of
// this test): what it answers to responses the real control plane never sends.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/discovery/discovery_client.h"
#include "hermes/v1/discovery.grpc.pb.h"
#include "tests/support/eventually.h"

namespace hermes {
namespace {

using namespace std::chrono_literals;
using test::Eventually;

// Waits for the proxy's four subscriptions, sends `script` in order, and records every request
// that answers one of them (those with a nonce).
class ScriptedControlPlane final : public v1::AggregatedDiscovery::Service {
 public:
  explicit ScriptedControlPlane(std::vector<v1::DiscoveryResponse> script) : script_(std::move(script)) {}

  grpc::Status Stream(grpc::ServerContext*,
                      grpc::ServerReaderWriter<v1::DiscoveryResponse, v1::DiscoveryRequest>* stream) override {
    v1::DiscoveryRequest request;
    for (int subscriptions = 0; subscriptions < 4;) {
      if (!stream->Read(&request)) return grpc::Status::OK;
      if (request.response_nonce().empty() && !request.has_drain_status()) ++subscriptions;
    }
    for (const auto& response : script_) stream->Write(response);
    while (stream->Read(&request)) {
      if (request.response_nonce().empty()) continue;
      std::lock_guard lock(mu_);
      answers_.push_back(request);
    }
    return grpc::Status::OK;
  }

  std::vector<v1::DiscoveryRequest> answers() {
    std::lock_guard lock(mu_);
    return answers_;
  }

 private:
  const std::vector<v1::DiscoveryResponse> script_;
  std::mutex mu_;
  std::vector<v1::DiscoveryRequest> answers_;
};

// ResourceType is an open proto3 enum, so a response may carry any number; the assembler indexed
// its per-type slots with it (out of bounds: found by tests/fuzz/fuzz_discovery_response).
TEST(DiscoveryClientTest, AResponseOfAnUnknownTypeIsNackedAndTheStreamGoesOn) {
  std::vector<v1::DiscoveryResponse> script;
  for (int type : {7, 0}) {
    v1::DiscoveryResponse odd;
    odd.set_type(static_cast<v1::ResourceType>(type));
    odd.set_version_info("v" + std::to_string(type));
    odd.set_nonce("n" + std::to_string(type));
    script.push_back(odd);
  }
  v1::DiscoveryResponse routes;  // a known type after them: still read and ACKed
  routes.set_type(v1::ROUTES);
  routes.set_version_info("r1");
  routes.set_nonce("n-routes");
  script.push_back(routes);

  ScriptedControlPlane control_plane(script);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&control_plane);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  ASSERT_TRUE(grpc_server);
  ASSERT_NE(port, 0);

  char pattern[] = "/tmp/hermes-discovery-client-XXXXXX";
  std::string cache_dir = mkdtemp(pattern);
  dataplane::DiscoveryClientOptions options;
  options.server = "127.0.0.1:" + std::to_string(port);
  options.node.set_id("fuzzed-1");
  options.cache_dir = cache_dir;
  std::atomic<int> applied{0};
  dataplane::DiscoveryClient client(options, [&](const v1::Config&, const discovery::UnhealthyEndpoints&) {
    ++applied;
    return std::vector<std::string>{};
  });
  client.Start();
  EXPECT_TRUE(Eventually([&] { return control_plane.answers().size() == 3; }))
      << "answers: " << control_plane.answers().size();
  client.Stop();
  grpc_server->Shutdown(std::chrono::system_clock::now() + 2s);

  auto answers = control_plane.answers();
  ASSERT_EQ(answers.size(), 3u);
  for (int i : {0, 1}) {
    int type = i == 0 ? 7 : 0;
    EXPECT_EQ(answers[i].response_nonce(), "n" + std::to_string(type));
    EXPECT_EQ(answers[i].error_detail().message(), "unknown resource type " + std::to_string(type));
    EXPECT_EQ(answers[i].version_info(), "");  // nothing of that type was ever applied
  }
  EXPECT_EQ(answers[2].response_nonce(), "n-routes");
  EXPECT_FALSE(answers[2].has_error_detail());  // ACK: routes alone, not applied yet
  EXPECT_EQ(answers[2].version_info(), "r1");
  EXPECT_EQ(applied.load(), 0);
  std::filesystem::remove_all(cache_dir);
}

}  // namespace
}  // namespace hermes
