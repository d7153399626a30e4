// SqliteStores: one opened database and the stores over it.
#include "controlplane/store/sqlite_stores.h"

#include <utility>

namespace hermes::controlplane {

Result<std::unique_ptr<SqliteStores>> SqliteStores::Open(const std::filesystem::path& path,
                                                         const Clock& clock) {
  auto database = SqliteDatabase::Open(path, clock);
  if (!database) return database.error();
  return std::unique_ptr<SqliteStores>(new SqliteStores(std::move(database).value()));
}

SqliteStores::SqliteStores(std::unique_ptr<SqliteDatabase> database)
    : database_(std::move(database)),
      versions(*database_),
      fleet(*database_),
      rollouts(*database_),
      stats(*database_),
      health(*database_) {}

}  // namespace hermes::controlplane
