// Thin RAII over the SQLite C API for the store: a connection, prepared statements, transactions.
// Functions return SQLite result codes; the store turns them into StoreErrors with its path.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace hermes::controlplane::sqlite {

struct CloseDatabase {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DatabasePtr = std::unique_ptr<sqlite3, CloseDatabase>;

// Runs SQL that returns no rows (one or more statements).
int Exec(sqlite3* db, const char* sql);

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // SQLITE_OK, or why the SQL did not compile (sqlite3_errmsg has the text).
  int prepare_result() const { return prepare_result_; }

  // Parameters are 1-based. A failed bind is reported by the next Step.
  void Bind(int index, std::int64_t value);
  void Bind(int index, std::string_view text);
  void BindBlob(int index, std::string_view bytes);
  void BindNull(int index);

  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step();
  // Clears bindings and rewinds, to run the statement again.
  void Reset();

  bool IsNull(int column) const;
  std::int64_t Int(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;

 private:
  void Note(int rc);

  sqlite3_stmt* stmt_ = nullptr;
  int prepare_result_ = SQLITE_OK;
  int bind_result_ = SQLITE_OK;
};

// BEGIN IMMEDIATE (takes the write lock at once, so a writer never fails to upgrade a read lock
// under contention) or BEGIN (deferred, for a consistent multi-statement read). Rolls back on
// destruction unless committed.
class Transaction {
 public:
  enum class Mode { kRead, kWrite };
  Transaction(sqlite3* db, Mode mode);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  int begin_result() const { return begin_result_; }
  int Commit();

 private:
  sqlite3* db_;
  int begin_result_;
  bool open_;
};

}  // namespace hermes::controlplane::sqlite
