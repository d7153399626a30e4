// The result of a fallible call: a value, or an error that says what went wrong and where.
// A small stand-in for C++23's std::expected; the error is a message unless a caller needs more
// (a kind to map to a gRPC status, a list of config errors).
//
//   Result<std::string> ReadTokenFile(const std::string& path);
//   ...
//   if (!read.ok()) return Failure("cannot read token file " + path + ": " + reason);
//   return token;
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace hermes {

// What a failed call returns; converts to any Result whose error type it converts to.
template <typename E>
struct Failure {
  explicit Failure(E e) : error(std::move(e)) {}
  E error;
};
Failure(const char*)->Failure<std::string>;

template <typename T, typename E = std::string>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  template <typename F>
  requires std::is_constructible_v<E, F&&> Result(Failure<F> failure)
      : state_(std::in_place_index<1>, std::move(failure.error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return *std::get_if<0>(&state_);
  }
  const T& value() const& {
    assert(ok());
    return *std::get_if<0>(&state_);
  }
  T&& value() && {
    assert(ok());
    return std::move(*std::get_if<0>(&state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    assert(!ok());
    return *std::get_if<1>(&state_);
  }

 private:
  std::variant<T, E> state_;
};

// A call that either succeeds with nothing to return or fails.
template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  template <typename F>
  requires std::is_constructible_v<E, F&&> Result(Failure<F> failure)
      : error_(std::move(failure.error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const E& error() const {
    assert(!ok());
    return error_;
  }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace hermes
