#include "dataplane/codec/http1/head_writer.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <boost/beast/http/status.hpp>

#include "dataplane/codec/http1/checks.h"

namespace hermes::dataplane::http1 {
namespace {

using beast_http::field;

// Fields that describe one connection, not the message (RFC 9110 7.6.1), including every field
// the Connection header names.
class HopByHop {
 public:
  template <class Header>
  explicit HopByHop(const Header& h) {
    for (const auto& f : h) {
      if (f.name() != field::connection) continue;
      ForEachToken(f.value(), [&](std::string_view t) {
        if (n_ < listed_.size()) listed_[n_++] = t;
      });
    }
  }

  template <class Field>
  bool Contains(const Field& f) const {
    switch (f.name()) {
      case field::connection:
      case field::keep_alive:
      case field::proxy_connection:
      case field::proxy_authenticate:
      case field::proxy_authorization:
      case field::te:
      case field::trailer:
      case field::transfer_encoding:
      case field::upgrade:
        return true;
      default:
        break;
    }
    std::string_view name = f.name_string();
    if (name.size() > 6 && IEquals(name.substr(0, 6), "proxy-")) return true;
    for (size_t i = 0; i < n_; ++i) {
      if (IEquals(listed_[i], name)) return true;
    }
    return false;
  }

  bool ListsUpgrade() const {
    for (size_t i = 0; i < n_; ++i) {
      if (IEquals(listed_[i], "upgrade")) return true;
    }
    return false;
  }

 private:
  std::array<std::string_view, 16> listed_{};
  size_t n_ = 0;
};

// Equal ignoring ASCII case, with '_' taken as '-': CGI, WSGI and PHP map X_Forwarded_For and
// X-Forwarded-For to one variable, so both spellings are the same claim.
bool SameHeaderName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Fields in which earlier hops say who the client is and how it connected.
bool ClaimsClientIdentity(std::string_view name) {
  if (name.size() >= 12 && SameHeaderName(name.substr(0, 12), "x-forwarded-")) return true;
  for (std::string_view claim : {"forwarded", "x-real-ip", "true-client-ip", "x-client-ip",
                                 "cf-connecting-ip", "x-cluster-client-ip"}) {
    if (SameHeaderName(name, claim)) return true;
  }
  return false;
}

bool InList(const std::vector<std::string>& lower_names, std::string_view name) {
  for (const auto& n : lower_names) {
    if (IEquals(n, name)) return true;
  }
  return false;
}

bool ReplacedBy(const std::vector<HeaderToAdd>& adds, std::string_view name) {
  for (const auto& h : adds) {
    if (!h.append && IEquals(h.name, name)) return true;
  }
  return false;
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void AppendNumber(std::string& out, uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void AppendFraming(std::string& out, const Framing& framing) {
  switch (framing.kind) {
    case Framing::Kind::kLength:
      out.append("Content-Length: ");
      AppendNumber(out, framing.length);
      out.append("\r\n");
      break;
    case Framing::Kind::kChunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    default:
      break;
  }
}

}  // namespace

std::string_view ClientRequestId(const RequestHeader& req) {
  for (const auto& f : req) {
    if (!IEquals(f.name_string(), "x-request-id")) continue;
    std::string_view v = f.value();
    if (v.empty() || v.size() > 200) return {};
    for (char c : v) {
      if (c < 0x21 || c > 0x7e) return {};
    }
    return v;
  }
  return {};
}

void WriteRequestHead(std::string& out, const RequestHeader& req, const Route& route,
                      const ForwardedRequest& fwd) {
  HopByHop hop(req);
  out.append(req.method_string()).append(" ").append(fwd.target).append(" HTTP/1.1\r\n");
  AppendField(out, "Host", fwd.host);

  bool has_xff = false;
  std::string_view via, xfh;
  bool kept_request_id = false;
  bool kept_proto = false, kept_host = false;
  for (const auto& f : req) {
    std::string_view name = f.name_string();
    switch (f.name()) {
      case field::host:
        xfh = f.value();
        continue;
      case field::content_length:
      case field::expect:  // Hermes answers 100-continue itself
        continue;
      case field::via:
        via = f.value();
        continue;
      default:
        break;
    }
    if (hop.Contains(f)) continue;
    if (ClaimsClientIdentity(name)) {
      if (!fwd.trusted_peer) continue;
      if (IEquals(name, "x-forwarded-for")) {
        has_xff = true;  // joined in order below: several fields are one list (RFC 9110 5.3)
        continue;
      }
      kept_proto = kept_proto || IEquals(name, "x-forwarded-proto");
      kept_host = kept_host || IEquals(name, "x-forwarded-host");
    }
    if (InList(route.request_headers_to_remove, name) ||
        ReplacedBy(route.request_headers_to_add, name))
      continue;
    if (IEquals(name, "x-request-id")) {
      if (!fwd.request_id.empty()) continue;  // the client's was not usable; ours replaces it
      kept_request_id = true;
    }
    AppendField(out, name, f.value());
  }

  out.append("X-Forwarded-For: ");
  if (has_xff) {
    for (const auto& f : req) {
      if (IEquals(f.name_string(), "x-forwarded-for")) out.append(f.value()).append(", ");
    }
  }
  out.append(fwd.peer_ip).append("\r\n");
  if (!kept_proto) out.append("X-Forwarded-Proto: http\r\n");
  if (!xfh.empty() && !kept_host) AppendField(out, "X-Forwarded-Host", xfh);
  out.append("Via: ");
  if (!via.empty()) out.append(via).append(", ");
  out.append(req.version() == 10 ? "1.0 hermes\r\n" : "1.1 hermes\r\n");
  if (!kept_request_id && !fwd.request_id.empty()) AppendField(out, "X-Request-Id", fwd.request_id);
  for (const auto& h : route.request_headers_to_add) AppendField(out, h.name, h.value);
  if (fwd.upgrade) {
    AppendField(out, "Upgrade", req[field::upgrade]);
    out.append("Connection: upgrade\r\n");
  }
  AppendFraming(out, fwd.framing);
  out.append("\r\n");
}

void WriteResponseHead(std::string& out, const ResponseHeader& res, const Route& route,
                       const ForwardedResponse& fwd) {
  HopByHop hop(res);
  out.append("HTTP/1.1 ");
  AppendNumber(out, res.result_int());
  out.append(" ");
  std::string_view reason = res.reason();
  if (reason.empty()) reason = beast_http::obsolete_reason(res.result());
  out.append(reason).append("\r\n");
  for (const auto& f : res) {
    std::string_view name = f.name_string();
    if (fwd.framing.kind == Framing::Kind::kAsIs &&
        (f.name() == field::content_length || f.name() == field::transfer_encoding)) {
      AppendField(out, name, f.value());
      continue;
    }
    if (f.name() == field::content_length) continue;
    if (fwd.upgrade && f.name() == field::upgrade) {
      AppendField(out, name, f.value());
      continue;
    }
    if (hop.Contains(f)) continue;
    if (InList(route.response_headers_to_remove, name) ||
        ReplacedBy(route.response_headers_to_add, name))
      continue;
    AppendField(out, name, f.value());
  }
  for (const auto& h : route.response_headers_to_add) AppendField(out, h.name, h.value);
  out.append(fwd.extra_fields);
  if (fwd.upgrade) {
    out.append("Connection: upgrade\r\n");
  } else if (fwd.close) {
    out.append("Connection: close\r\n");
  } else if (fwd.keep_alive_10) {
    out.append("Connection: keep-alive\r\n");
  }
  AppendFraming(out, fwd.framing);
  out.append("\r\n");
}

void WriteLocalResponse(std::string& out, unsigned status, std::string_view body, bool close,
                        bool head_request, std::string_view extra_fields) {
  out.append("HTTP/1.1 ");
  AppendNumber(out, status);
  out.append(" ")
      .append(beast_http::obsolete_reason(static_cast<beast_http::status>(status)))
      .append("\r\nServer: hermes\r\nContent-Type: text/plain\r\nContent-Length: ");
  AppendNumber(out, body.size() + 1);
  out.append("\r\n").append(extra_fields);
  out.append(close ? "Connection: close\r\n\r\n" : "\r\n");
  if (!head_request) out.append(body).append("\n");
}

}  // namespace hermes::dataplane::http1
