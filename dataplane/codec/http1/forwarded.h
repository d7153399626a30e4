// Who the client is when other proxies stand in front of Hermes: X-Forwarded-For is believed only
// as far as the hops that wrote it are trusted (nginx set_real_ip_from with real_ip_recursive,
// Envoy's xff_num_trusted_hops by address).
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>

#include "dataplane/codec/http1/message.h"
#include "hermes/common/cidr.h"

namespace hermes::dataplane::http1 {

// The client address of a request received from `peer`. If `peer` is trusted, X-Forwarded-For
// (every such field, in order) is read right to left: each trusted address is a hop of ours and is
// passed over; the first untrusted one is the client. An entry that is not an address ends the
// walk at the last good one. With an untrusted peer, the peer is the client. Written to `out` as
// text ("127.0.0.1", "2001:db8::1": never "::ffff:127.0.0.1").
void ResolveClient(const RequestHeader& req, const boost::asio::ip::address& peer, bool peer_trusted,
                   const CidrSet& trusted, std::string& out);

}  // namespace hermes::dataplane::http1
