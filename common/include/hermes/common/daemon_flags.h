// Command lines of the daemons (hermes, hermes-controlplane), parsed with CLI11: one behaviour
// for both. Unknown flags and values are refused with a message naming what was wrong (the
// allowed values included); the daemons then exit with code 2. hermesctl keeps its own parser,
// which also drives its help pages and completion.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "hermes/common/result.h"

namespace hermes::flags {

// The --log-level values, in the order the usage texts list them.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error"};

// Parses `args` (argv without the program name) into what `app` declares. Go-style single-dash
// long flags (-config) count as double-dash ones, because the original Hermes was started as
// `hermes -config config.yaml`. Errors: `unknown argument "ARG"`, `FLAG needs a value`, and
// what a check below says, prefixed with the flag ("--log-level: ...").
Result<void> Parse(CLI::App& app, const std::vector<std::string>& args);

// Makes `app` a daemon's: no help flag of CLI11's own (the daemons print their usage texts), a
// flag given twice takes the last value. Call before adding the flags.
void Prepare(CLI::App& app);

// One of kLogLevels: `"debgu" is not one of trace, debug, info, warn, error`.
CLI::Validator LogLevel();

// A whole number from `min` to `max`: `"VALUE" is not DESCRIPTION`, e.g. the description
// "a number from 1 to 256".
CLI::Validator Count(uint64_t min, uint64_t max, std::string description);

// `key=value` with a non-empty key.
CLI::Validator KeyValue();

}  // namespace hermes::flags
