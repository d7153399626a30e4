// An upstream that does exactly what a test scripts, byte for byte, including what a well-behaved
// server never would (bytes after a response, endless 1xx, broken framing): one blocking thread per
// connection running the test's handler. Loopback only; everything stops in the destructor.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace hermes::test {

class ScriptedConnection {
 public:
  ScriptedConnection(boost::asio::ip::tcp::socket& socket, int index) : socket_(socket), index_(index) {}

  // The next request head (through the blank line), or "" once the peer closed. A body the head
  // announces is not read: scripts that take bodies call ReadBytes.
  std::string ReadHead() {
    boost::system::error_code ec;
    size_t n = boost::asio::read_until(socket_, buffer_, "\r\n\r\n", ec);
    if (ec) return {};
    std::string head(static_cast<const char*>(buffer_.data().data()), n);
    buffer_.consume(n);
    return head;
  }
  bool Write(std::string_view bytes) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }
  // Which accepted connection this is, from 0.
  int index() const { return index_; }

 private:
  boost::asio::ip::tcp::socket& socket_;
  boost::asio::streambuf buffer_;
  int index_;
};

class ScriptedUpstream {
 public:
  using Handler = std::function<void(ScriptedConnection&)>;

  explicit ScriptedUpstream(Handler handler) : handler_(std::move(handler)) {
    acceptor_.open(boost::asio::ip::tcp::v4());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~ScriptedUpstream() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      // Wakes a blocking accept(): connect once.
      boost::asio::ip::tcp::socket poke(context_);
      boost::system::error_code ec;
      poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    }
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
  }

  ScriptedUpstream(const ScriptedUpstream&) = delete;
  ScriptedUpstream& operator=(const ScriptedUpstream&) = delete;

  uint16_t port() const { return port_; }
  int connections() const { return accepted_.load(); }

 private:
  void AcceptLoop() {
    for (;;) {
      auto socket = std::make_unique<boost::asio::ip::tcp::socket>(context_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (stopping_) return;
      if (ec) continue;
      int index = accepted_++;
      std::lock_guard lock(mu_);
      boost::asio::ip::tcp::socket* raw = socket.get();
      sockets_.push_back(std::move(socket));
      threads_.emplace_back([this, raw, index] {
        ScriptedConnection connection(*raw, index);
        handler_(connection);
        ::shutdown(raw->native_handle(), SHUT_WR);
      });
    }
  }

  Handler handler_;
  boost::asio::io_context context_;
  boost::asio::ip::tcp::acceptor acceptor_{context_};
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace hermes::test
