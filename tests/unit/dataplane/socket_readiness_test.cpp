// What an idle client connection relies on when it waits for readability instead of holding a
// read buffer: Asio's async_wait(wait_read) reports bytes (or a FIN) that arrived before the wait
// was queued, even after the reactor has already seen and dropped that readiness edge (epoll is
// edge-triggered in Asio); the bytes are then there to read; and cancel() ends the wait (drain,
// idle timeout). Real loopback sockets, one io_context.
#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string_view>

#include "dataplane/asio.h"

namespace hermes::dataplane {
namespace {

using namespace std::chrono_literals;
using error_code = boost::system::error_code;

class SocketReadinessTest : public ::testing::Test {
 protected:
  SocketReadinessTest() {
    Acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client_.connect(acceptor.local_endpoint());
    server_ = acceptor.accept();
  }

  // Runs `task` to completion on io_ (bounded, so a wait that never completes fails the test).
  template <class T>
  std::optional<T> Run(Task<T> task) {
    std::optional<T> result;
    asio::co_spawn(io_, std::move(task), [&](std::exception_ptr e, T value) {
      if (e) std::rethrow_exception(e);
      result = std::move(value);
    });
    io_.run_for(10s);
    io_.restart();
    return result;
  }

  void ClientSends(std::string_view bytes) {
    asio::write(client_, asio::buffer(bytes.data(), bytes.size()));
  }

  // Blocks until the kernel holds readable bytes (or EOF) for the server socket: the precondition
  // "arrived before the wait", established without Asio.
  bool ArrivedAtServer() {
    pollfd p{server_.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 10000) == 1 && (p.revents & POLLIN);
  }

  // Lets the reactor run once (a timer is fired by epoll_wait), so a readiness edge that is
  // already there is consumed while no operation waits on the socket.
  Task<void> LetTheReactorRun() {
    Timer t(co_await asio::this_coro::executor);
    t.expires_after(0ms);
    co_await t.async_wait(kNoThrow);
  }

  std::string Read() {
    std::array<char, 64> buf{};
    error_code ec;
    size_t n = server_.read_some(asio::buffer(buf), ec);
    return ec ? "error: " + ec.message() : std::string(buf.data(), n);
  }

  asio::io_context io_{1};
  Socket client_{io_.get_executor()};
  Socket server_{io_.get_executor()};
};

TEST_F(SocketReadinessTest, WaitReadCompletesWhenBytesArriveWhileWaiting) {
  auto waited = Run([&]() -> Task<error_code> {
    Timer later(co_await asio::this_coro::executor);
    later.expires_after(0ms);
    later.async_wait([&](error_code) { ClientSends("later"); });
    auto [ec] = co_await server_.async_wait(Socket::wait_read, kNoThrow);
    co_return ec;
  }());
  ASSERT_TRUE(waited.has_value()) << "the wait never completed";
  EXPECT_FALSE(*waited) << waited->message();
  EXPECT_EQ(Read(), "later");
}

TEST_F(SocketReadinessTest, WaitReadCompletesForBytesThatArrivedBeforeTheWaitWasQueued) {
  // A first exchange, as a keep-alive connection has had, so the socket has been through the
  // reactor with a read.
  ClientSends("first");
  auto first = Run([&]() -> Task<std::string> {
    std::array<char, 64> buf{};
    auto [ec, n] = co_await server_.async_read_some(asio::buffer(buf), kNoThrow);
    co_return ec ? "error: " + ec.message() : std::string(buf.data(), n);
  }());
  ASSERT_EQ(first.value_or("not completed"), "first");

  ClientSends("second");
  ASSERT_TRUE(ArrivedAtServer());
  auto waited = Run([&]() -> Task<error_code> {
    co_await LetTheReactorRun();
    auto [ec] = co_await server_.async_wait(Socket::wait_read, kNoThrow);
    co_return ec;
  }());
  ASSERT_TRUE(waited.has_value()) << "the wait never completed: readiness that came first was lost";
  EXPECT_FALSE(*waited) << waited->message();
  EXPECT_EQ(Read(), "second");
}

TEST_F(SocketReadinessTest, WaitReadCompletesForAFinThatArrivedBeforeTheWaitWasQueued) {
  client_.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(ArrivedAtServer());
  auto waited = Run([&]() -> Task<error_code> {
    co_await LetTheReactorRun();
    auto [ec] = co_await server_.async_wait(Socket::wait_read, kNoThrow);
    co_return ec;
  }());
  ASSERT_TRUE(waited.has_value()) << "the wait never completed: a FIN that came first was lost";
  EXPECT_FALSE(*waited) << waited->message();
  EXPECT_EQ(Read(), "error: " + error_code(asio::error::eof).message());
}

TEST_F(SocketReadinessTest, CancelEndsAWaitWithOperationAborted) {
  auto waited = Run([&]() -> Task<error_code> {
    Timer drain(co_await asio::this_coro::executor);
    drain.expires_after(0ms);
    drain.async_wait([&](error_code) { server_.cancel(); });
    auto [ec] = co_await server_.async_wait(Socket::wait_read, kNoThrow);
    co_return ec;
  }());
  ASSERT_TRUE(waited.has_value()) << "cancel did not end the wait";
  EXPECT_EQ(*waited, asio::error::operation_aborted);
  // The connection is still usable: bytes sent afterwards are waited for and read.
  ClientSends("after");
  auto again = Run([&]() -> Task<error_code> {
    auto [ec] = co_await server_.async_wait(Socket::wait_read, kNoThrow);
    co_return ec;
  }());
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
  EXPECT_EQ(Read(), "after");
}

}  // namespace
}  // namespace hermes::dataplane
