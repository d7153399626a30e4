// Accepts connections on one thread and closes them all on stop.
#include "tests/support/upstream_worker.h"

#include <sys/socket.h>

#include <boost/asio/detail/socket_option.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <vector>

#include "tests/support/http_session.h"

namespace hermes::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// Asio has no public SO_REUSEPORT option; this is the type its own options are built from.
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

UpstreamConnection::UpstreamConnection(UpstreamWorker& worker) : worker_(worker) {
  worker_.Register(*this);
}

UpstreamConnection::~UpstreamConnection() { worker_.Unregister(*this); }

UpstreamWorker::UpstreamWorker(int index, const tcp::endpoint& endpoint, const std::string& name,
                               RequestLog& log)
    : index_(index), name_(name), hello_("hello from upstream " + name + "\n"), log_(log) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.set_option(ReusePort(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  Accept();
}

uint16_t UpstreamWorker::port() const { return acceptor_.local_endpoint().port(); }

void UpstreamWorker::Run() { context_.run(); }

void UpstreamWorker::Stop() {
  asio::post(context_, [this] { CloseEverything(); });
}

void UpstreamWorker::Register(UpstreamConnection& connection) { connections_.insert(&connection); }

void UpstreamWorker::Unregister(UpstreamConnection& connection) { connections_.erase(&connection); }

void UpstreamWorker::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void UpstreamWorker::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  // An accept that completed just before Stop() must not start a session after it.
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (!ec) {
    log_.CountConnection();
    socket.set_option(tcp::no_delay(true), ec);
    std::make_shared<HttpSession>(std::move(socket), *this)->Start();
  }
  Accept();
}

void UpstreamWorker::CloseEverything() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  const std::vector<UpstreamConnection*> open(connections_.begin(), connections_.end());
  for (UpstreamConnection* connection : open) connection->Close();
}

}  // namespace hermes::test
