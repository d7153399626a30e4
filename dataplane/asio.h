// The concrete Asio types of the data plane: every worker runs one io_context on one thread, so
// sockets, timers and coroutines use its executor type directly instead of any_io_executor
// (which costs a type-erased call per operation; DESIGN.md).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hermes::dataplane {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;

template <class T = void>
using Task = asio::awaitable<T, Executor>;

// Completion token: resume the coroutine with (error_code, results...) instead of throwing.
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<Executor>{});

}  // namespace hermes::dataplane
