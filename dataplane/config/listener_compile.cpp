#include "dataplane/config/listener_compile.h"

#include "hermes/common/duration.h"

namespace hermes::dataplane {
namespace {

Millis ToMillis(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<Millis>(ToChrono(d));
}

}  // namespace

ListenerSettings CompileListener(const v1::Listener& l, StatsStore& stats) {
  ListenerSettings s;
  s.name = l.name();
  s.address = l.address();
  s.host_port = ParseHostPort(l.address()).value_or(HostPort{});
  s.max_connections = l.max_connections();
  s.header_timeout = ToMillis(l.header_timeout());
  s.idle_timeout = ToMillis(l.idle_timeout());
  s.max_header_bytes = l.max_header_bytes();
  s.max_request_line_bytes = l.max_request_line_bytes();
  s.max_request_body = l.max_request_body();
  s.drain_timeout = ToMillis(l.drain_timeout());
  std::vector<Cidr> trusted;
  for (const auto& t : l.trusted_proxies()) {
    if (auto cidr = ParseCidr(t)) trusted.push_back(*cidr);
  }
  s.trusted_proxies = CidrSet(std::move(trusted));
  s.path.normalize = l.normalize_path();
  s.path.merge_slashes = l.merge_slashes();
  s.path.escaped_slashes = l.escaped_slashes() == "keep"       ? http::EscapedSlashes::kKeep
                           : l.escaped_slashes() == "unescape" ? http::EscapedSlashes::kUnescape
                                                               : http::EscapedSlashes::kReject;
  s.request_timeout = ToMillis(l.request_timeout());
  s.min_request_body_rate = l.min_request_body_rate();
  s.request_buffer_bytes = l.request_buffer_bytes();
  s.stats = stats.Listener(s.name);
  return s;
}

}  // namespace hermes::dataplane
