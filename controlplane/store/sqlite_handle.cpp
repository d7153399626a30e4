// RAII over the SQLite C API (see sqlite_handle.h).
#include "controlplane/store/sqlite_handle.h"

namespace hermes::controlplane::sqlite {

int Exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

Statement::Statement(sqlite3* db, std::string_view sql) {
  prepare_result_ =
      sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Note(int rc) {
  if (bind_result_ == SQLITE_OK) bind_result_ = rc;
}

void Statement::Bind(int index, std::int64_t value) {
  Note(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::Bind(int index, std::string_view text) {
  Note(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: SQLite binds NULL for a null pointer.
  static constexpr char kEmpty = 0;
  Note(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(), bytes.size(),
                           SQLITE_TRANSIENT));
}

void Statement::BindNull(int index) { Note(sqlite3_bind_null(stmt_, index)); }

int Statement::Step() {
  if (prepare_result_ != SQLITE_OK) return prepare_result_;
  if (bind_result_ != SQLITE_OK) return bind_result_;
  return sqlite3_step(stmt_);
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_result_ = SQLITE_OK;
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::string Statement::Blob(int column) const {
  const void* bytes = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (bytes == nullptr) return {};
  return std::string(static_cast<const char*>(bytes), static_cast<std::size_t>(size));
}

Transaction::Transaction(sqlite3* db, Mode mode)
    : db_(db),
      begin_result_(Exec(db, mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN")),
      open_(begin_result_ == SQLITE_OK) {}

Transaction::~Transaction() {
  if (open_) Exec(db_, "ROLLBACK");
}

int Transaction::Commit() {
  const int rc = Exec(db_, "COMMIT");
  // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; the destructor rolls it back.
  if (rc == SQLITE_OK) open_ = false;
  return rc;
}

}  // namespace hermes::controlplane::sqlite
