// The config store's result type: a value or a StoreError, never an exception across the interface.
#pragma once

#include <string>
#include <utility>

#include "hermes/common/result.h"

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

// The stores' results: hermes::Result with a StoreError, which converts to them without
// Failure() (a store never returns a StoreError as a value, so nothing is ambiguous).
template <typename T>
class [[nodiscard]] Result : public hermes::Result<T, StoreError> {
  using Base = hermes::Result<T, StoreError>;

 public:
  using Base::Base;
  Result() = default;
  Result(StoreError error) : Base(hermes::Failure(std::move(error))) {}  // NOLINT
};

}  // namespace hermes::controlplane
