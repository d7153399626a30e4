// The proxy's admin listener as an attacker on the network or a web page would meet it: the bearer
// token of admin.token_file, mutations by POST only and never cross-site, read/write/idle deadlines,
// the connection cap, and /config without secrets. In-process server, real sockets on 127.0.0.1.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/admin/admin_server.h"
#include "tests/integration/proxy_harness.h"
#include "tests/support/eventually.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

constexpr std::string_view kToken = "s3cret-admin-token";

// A fresh temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/hermes-admin-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(dir_); }
  std::string Write(std::string_view name, std::string_view text) const {
    const std::string path = Path(name);
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }

 private:
  std::string dir_;
};

// ProxyYaml with `admin_block` as the admin: entry (flow mapping) and `extra` appended.
std::string AdminYaml(uint16_t upstream_port, std::string_view admin_block,
                      std::string_view routes = kDefaultRoute, std::string_view extra = "") {
  std::string yaml = ProxyYaml({upstream_port}, routes);
  const std::string default_admin = "admin: { address: \"127.0.0.1:0\" }\n";
  yaml.replace(yaml.find(default_admin), default_admin.size(),
               "admin: { address: \"127.0.0.1:0\"" + std::string(admin_block) + " }\n");
  return yaml + std::string(extra);
}

std::string Request(std::string_view method, std::string_view path, std::string_view extra_lines = "") {
  std::string request;
  request.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: admin\r\n");
  request.append(extra_lines);
  if (method == "POST") request.append("Content-Length: 0\r\n");
  request.append("\r\n");
  return request;
}

std::string Bearer(std::string_view token) {
  return "Authorization: Bearer " + std::string(token) + "\r\n";
}

class AdminApiTest : public ::testing::Test {
 protected:
  // A server started from `yaml` (written to the config file, so POST /reload re-reads it).
  void Start(const std::string& yaml, dataplane::AdminTimeouts timeouts = {}) {
    config_path_ = dir_.Write("hermes.yaml", yaml);
    dataplane::ServerOptions options{config_path_, 1, false};
    options.admin_timeouts = timeouts;
    server_ = std::make_unique<dataplane::Server>(options);
    const auto errors = server_->Start(LoadOrFail(yaml));
    ASSERT_EQ(errors, std::vector<std::string>{});
    started_ = true;
  }
  void TearDown() override {
    if (!started_) return;
    server_->Shutdown();
    server_->Wait();
  }

  std::optional<Response> Admin(std::string_view method, std::string_view path,
                                std::string_view extra_lines = "") {
    HttpConnection client(server_->AdminPort());
    return client.Request(Request(method, path, extra_lines));
  }
  unsigned StatusOf(std::string_view method, std::string_view path, std::string_view extra_lines = "") {
    auto response = Admin(method, path, extra_lines);
    return response ? response->result_int() : 0;
  }
  unsigned ProxyStatusOf(std::string_view target) {
    HttpConnection client(server_->ListenerPort("main"));
    auto response = client.Request(Get(target));
    return response ? response->result_int() : 0;
  }

  test::TestUpstream upstream_;
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<dataplane::Server> server_;
  bool started_ = false;
};

TEST_F(AdminApiTest, ConfigNeedsTheBearerTokenOfTheTokenFile) {
  const std::string token_file = dir_.Write("token", "  " + std::string(kToken) + "\n");
  Start(AdminYaml(upstream_.port(), ", token_file: \"" + token_file + "\""));

  auto none = Admin("GET", "/config");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->result_int(), 401u);
  EXPECT_EQ((*none)[bhttp::field::www_authenticate], "Bearer");
  EXPECT_EQ(StatusOf("GET", "/config", Bearer("wrong")), 401u);
  EXPECT_EQ(StatusOf("GET", "/config", Bearer(std::string(kToken) + "x")), 401u);
  EXPECT_EQ(StatusOf("GET", "/config", "Authorization: Basic czNjcmV0\r\n"), 401u);

  auto right = Admin("GET", "/config", Bearer(kToken));
  ASSERT_TRUE(right);
  EXPECT_EQ(right->result_int(), 200u);
  EXPECT_NE(right->body().find("\"clusters\""), std::string::npos) << right->body();
  EXPECT_EQ(StatusOf("GET", "/config", "Authorization: bearer " + std::string(kToken) + "\r\n"), 200u)
      << "the scheme is case-insensitive (RFC 7235)";

  // The read-only views stay open.
  for (std::string_view path : {"/health", "/ready", "/metrics", "/backends", "/stats", "/circuits", "/drain"})
    EXPECT_EQ(StatusOf("GET", path), 200u) << path;
}

TEST_F(AdminApiTest, PostReloadNeedsTheBearerToken) {
  const std::string token_file = dir_.Write("token", std::string(kToken));
  const std::string admin = ", token_file: \"" + token_file + "\"";
  Start(AdminYaml(upstream_.port(), admin, "  - { name: a, match: { prefix: /a }, cluster: up }\n"));
  dir_.Write("hermes.yaml", AdminYaml(upstream_.port(), admin,
                                      "  - { name: a, match: { prefix: /a }, cluster: up }\n"
                                      "  - { name: b, match: { prefix: /b }, cluster: up }\n"));

  auto none = Admin("POST", "/reload");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->result_int(), 401u);
  EXPECT_EQ((*none)[bhttp::field::www_authenticate], "Bearer");
  EXPECT_EQ(StatusOf("POST", "/reload", Bearer("wrong")), 401u);
  EXPECT_EQ(ProxyStatusOf("/b"), 404u) << "a refused reload applied the file";

  auto right = Admin("POST", "/reload", Bearer(kToken));
  ASSERT_TRUE(right);
  EXPECT_EQ(right->result_int(), 200u) << right->body();
  EXPECT_EQ(ProxyStatusOf("/b"), 200u);
}

TEST_F(AdminApiTest, GetReloadIs405WithAllowPost) {
  Start(AdminYaml(upstream_.port(), ""));
  for (std::string_view method : {"GET", "HEAD"}) {
    HttpConnection client(server_->AdminPort());
    auto response = client.Request(Request(method, "/reload"), /*head_request=*/method == "HEAD");
    ASSERT_TRUE(response) << method;
    EXPECT_EQ(response->result_int(), 405u) << method;
    EXPECT_EQ((*response)[bhttp::field::allow], "POST") << method;
  }
  auto post_view = Admin("POST", "/health");
  ASSERT_TRUE(post_view);
  EXPECT_EQ(post_view->result_int(), 405u);
  EXPECT_EQ((*post_view)[bhttp::field::allow], "GET, HEAD");
}

TEST_F(AdminApiTest, CrossSitePostReloadIs403AndReloadsNothing) {
  Start(AdminYaml(upstream_.port(), "", "  - { name: a, match: { prefix: /a }, cluster: up }\n"));
  dir_.Write("hermes.yaml", AdminYaml(upstream_.port(), "",
                                      "  - { name: a, match: { prefix: /a }, cluster: up }\n"
                                      "  - { name: b, match: { prefix: /b }, cluster: up }\n"));

  EXPECT_EQ(StatusOf("POST", "/reload", "Origin: http://evil.example\r\n"), 403u);
  EXPECT_EQ(StatusOf("POST", "/reload", "Sec-Fetch-Site: cross-site\r\n"), 403u);
  EXPECT_EQ(StatusOf("POST", "/reload", "Sec-Fetch-Site: same-site\r\n"), 403u);
  EXPECT_EQ(ProxyStatusOf("/b"), 404u) << "a cross-site POST reloaded the proxy";

  EXPECT_EQ(StatusOf("POST", "/reload", "Sec-Fetch-Site: same-origin\r\n"), 200u);
  EXPECT_EQ(ProxyStatusOf("/b"), 200u);
}

TEST_F(AdminApiTest, HalfSentRequestIsAnswered408AndClosedAfterTheReadTimeout) {
  Start(AdminYaml(upstream_.port(), ""), {.read = 300ms, .write = 10s, .idle = 60s});
  HttpConnection client(server_->AdminPort());
  ASSERT_TRUE(client.Send("GET /health HTTP/1.1\r\nHost: admin\r\n"));  // no blank line: never ends
  const auto start = std::chrono::steady_clock::now();
  const std::string received = client.ReadUntilClosed(5s);
  EXPECT_TRUE(client.closed_by_peer()) << client.last_error().message();
  EXPECT_EQ(test::ParseStatus(received), 408) << received;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms) << "closed before the read timeout";
}

TEST_F(AdminApiTest, SilentConnectionIsClosedAfterTheReadTimeout) {
  Start(AdminYaml(upstream_.port(), ""), {.read = 300ms, .write = 10s, .idle = 60s});
  HttpConnection client(server_->AdminPort());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.ClosedByPeer(5s)) << client.last_error().message();
}

TEST_F(AdminApiTest, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  Start(AdminYaml(upstream_.port(), ""), {.read = 10s, .write = 10s, .idle = 300ms});
  HttpConnection client(server_->AdminPort());
  auto response = client.Request(Request("GET", "/healthz"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_TRUE(client.ClosedByPeer(5s)) << client.last_error().message();
}

TEST_F(AdminApiTest, ConnectionOverMaxConnectionsIsClosedWhileTheOthersAreHeld) {
  Start(AdminYaml(upstream_.port(), ", max_connections: 2"));
  // Held open, each with a request answered (so both are accepted and counted).
  std::vector<std::unique_ptr<HttpConnection>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<HttpConnection>(server_->AdminPort()));
    auto response = held.back()->Request(Request("GET", "/healthz"));
    ASSERT_TRUE(response);
    ASSERT_EQ(response->result_int(), 200u);
  }
  HttpConnection over(server_->AdminPort());
  ASSERT_TRUE(over.connected());  // the kernel completes the handshake; Hermes then closes it
  EXPECT_TRUE(over.ClosedByPeer(5s)) << over.last_error().message();
  auto metrics = held.front()->Request(Request("GET", "/metrics"));
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body().find("hermes_admin_refused_connections_total 1\n"), std::string::npos)
      << metrics->body();

  // A slot freed is a slot served again.
  held.pop_back();
  EXPECT_TRUE(test::Eventually([&] { return StatusOf("GET", "/healthz") == 200u; }, 5s));
  for (auto& connection : held) {
    auto response = connection->Request(Request("GET", "/healthz"));
    ASSERT_TRUE(response) << "a held connection was dropped";
    EXPECT_EQ(response->result_int(), 200u);
  }
}

TEST_F(AdminApiTest, ConfigRedactsCredentialHeaderValuesAndTheStickySecret) {
  constexpr std::string_view kSticky = "sticky-secret-0123456789";
  const std::string routes =
      "  - name: all\n    cluster: up\n"
      "    request_headers_to_add:\n"
      "      - { name: Authorization, value: \"Bearer upstream-credential\" }\n"
      "      - { name: X-Api-Key, value: apikey-value }\n"
      "      - { name: X-Session-Id, value: session-value }\n"
      "      - { name: X-Trace, value: trace-visible }\n"
      "    response_headers_to_add:\n"
      "      - { name: Set-Cookie, value: \"sid=cookie-value\" }\n"
      "      - { name: X-Served-By, value: hermes-visible }\n";
  Start(AdminYaml(upstream_.port(), "", routes, "sticky_secret: \"" + std::string(kSticky) + "\"\n"));

  auto response = Admin("GET", "/config");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->result_int(), 200u);
  const std::string& body = response->body();
  for (std::string_view secret : {"upstream-credential", "apikey-value", "session-value", "cookie-value"})
    EXPECT_EQ(body.find(secret), std::string::npos) << secret << " shown in\n" << body;
  EXPECT_EQ(body.find(kSticky), std::string::npos) << body;
  EXPECT_NE(body.find("\"sticky_secret\": \"[redacted]\""), std::string::npos) << body;
  EXPECT_NE(body.find("trace-visible"), std::string::npos) << body;
  EXPECT_NE(body.find("hermes-visible"), std::string::npos) << body;

  // Redacted on a copy: the running config still sends the real values.
  const auto snap = server_->snapshot();
  EXPECT_EQ(snap->config.sticky_secret(), kSticky);
  EXPECT_EQ(snap->config.routes(0).request_headers_to_add(0).value(), "Bearer upstream-credential");
}

TEST_F(AdminApiTest, UnreadableOrEmptyTokenFileRefusesTheStartNamingTheFile) {
  const std::string missing = dir_.Path("missing-token");
  dataplane::Server missing_server(dataplane::ServerOptions{"", 1, false});
  const auto missing_errors =
      missing_server.Start(LoadOrFail(AdminYaml(upstream_.port(), ", token_file: \"" + missing + "\"")));
  ASSERT_EQ(missing_errors.size(), 1u);
  EXPECT_EQ(missing_errors[0],
            "admin.token_file: cannot read token file " + missing + ": No such file or directory");

  const std::string empty = dir_.Write("empty-token", " \n\t\n");
  dataplane::Server empty_server(dataplane::ServerOptions{"", 1, false});
  const auto empty_errors =
      empty_server.Start(LoadOrFail(AdminYaml(upstream_.port(), ", token_file: \"" + empty + "\"")));
  ASSERT_EQ(empty_errors.size(), 1u);
  EXPECT_EQ(empty_errors[0], "admin.token_file: token file " + empty + " is empty");
}

TEST_F(AdminApiTest, ReloadRereadsTheTokenFileAndRefusesAnEmptyOne) {
  const std::string token_file = dir_.Write("token", "first-token");
  Start(AdminYaml(upstream_.port(), ", token_file: \"" + token_file + "\""));
  EXPECT_EQ(StatusOf("GET", "/config", Bearer("first-token")), 200u);

  dir_.Write("token", "second-token\n");
  EXPECT_EQ(StatusOf("POST", "/reload", Bearer("first-token")), 200u);
  EXPECT_EQ(StatusOf("GET", "/config", Bearer("first-token")), 401u);
  EXPECT_EQ(StatusOf("GET", "/config", Bearer("second-token")), 200u);

  dir_.Write("token", "");
  auto refused = Admin("POST", "/reload", Bearer("second-token"));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400u);
  EXPECT_NE(refused->body().find("token file " + token_file + " is empty"), std::string::npos)
      << refused->body();
  EXPECT_EQ(StatusOf("GET", "/config", Bearer("second-token")), 200u) << "the running token changed";
}

}  // namespace
}  // namespace hermes::integration
