// The config store's result type: a value or a StoreError, never an exception across the interface.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace hermes::controlplane {

enum class StoreErrorKind {
  kNotFound,         // the version or node asked for does not exist
  kInvalidArgument,  // the caller passed something the store cannot hold (empty node id, ...)
  kSchema,           // the file is from a newer Hermes, or not a Hermes store
  kStorage,          // SQLite failed: I/O, permissions, lock timeout, corruption
};

struct StoreError {
  StoreErrorKind kind = StoreErrorKind::kStorage;
  std::string message;  // says what failed and where: the operation and the file path
};

// A small stand-in for C++23's std::expected<T, StoreError>.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}           // NOLINT
  Result(StoreError error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

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

  const StoreError& error() const {
    assert(!ok());
    return *std::get_if<1>(&state_);
  }

 private:
  std::variant<T, StoreError> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(StoreError error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const StoreError& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<StoreError> error_;
};

}  // namespace hermes::controlplane
