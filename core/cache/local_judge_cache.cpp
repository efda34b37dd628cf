#include "core/cache/local_judge_cache.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "core/common/logging.h"

namespace llmeval::cache {
namespace {

constexpr int kSweepEvery = 256;  // writes between size checks

std::int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Retries a locked file for up to `lock_wait`, 100 µs at a time, instead of SQLite's default
// handler, whose first sleep alone is a whole millisecond of the event loop.
int on_busy(void* context, int tries) {
  auto wait = *static_cast<std::chrono::milliseconds*>(context);
  if (std::chrono::microseconds(100) * tries >= wait) return 0;
  ::usleep(100);
  return 1;
}

// One prepared statement, finalized with its owner.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { finalize(); }
  void finalize() {
    sqlite3_finalize(stmt);
    stmt = nullptr;
  }
};

// Resets a statement (and its bindings) when a step is done with it, on every path.
struct StepScope {
  sqlite3_stmt* stmt;
  ~StepScope() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

}  // namespace

std::string default_cache_path() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/llmeval/judge-cache.sqlite3";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.cache/llmeval/judge-cache.sqlite3";
  }
  return {};
}

struct LocalJudgeCache::Impl {
  LocalCacheOptions options;
  sqlite3* db = nullptr;
  Statement select;
  Statement insert;
  int writes_since_sweep = 0;
  std::int64_t dropped_writes = 0;
  bool warned = false;
  std::shared_ptr<spdlog::logger> log = logger("cache");

  ~Impl() {
    select.finalize();  // before closing: sqlite3_close refuses while statements are open
    insert.finalize();
    sqlite3_close(db);
  }

  std::int64_t now() const { return options.now_seconds ? options.now_seconds() : epoch_seconds(); }

  Error failure(const std::string& what) const {
    return Error(ErrorKind::kIo, "judge cache " + options.path + ": " + what + ": " +
                                     (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
  }

  bool exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

  std::optional<std::int64_t> single_integer(const char* sql) {
    Statement statement;
    if (sqlite3_prepare_v2(db, sql, -1, &statement.stmt, nullptr) != SQLITE_OK) return std::nullopt;
    if (sqlite3_step(statement.stmt) != SQLITE_ROW) return std::nullopt;
    return sqlite3_column_int64(statement.stmt, 0);
  }

  std::int64_t data_bytes() {
    auto pages = single_integer("PRAGMA page_count");
    auto free_pages = single_integer("PRAGMA freelist_count");
    auto page_size = single_integer("PRAGMA page_size");
    if (!pages || !free_pages || !page_size) return 0;
    return (*pages - *free_pages) * *page_size;
  }

  // Expired entries first, then the oldest tenth at a time, until the data fits.
  void sweep() {
    writes_since_sweep = 0;
    if (data_bytes() <= options.max_bytes) return;
    Statement expired;
    if (sqlite3_prepare_v2(db, "DELETE FROM verdicts WHERE expires <= ?", -1, &expired.stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_int64(expired.stmt, 1, now());
      sqlite3_step(expired.stmt);
    }
    // Row ids grow with each write (a rewrite gets a new one), so the smallest are the oldest,
    // and deleting them frees whole pages at the front of the table for the next writes.
    for (int round = 0; round < 10 && data_bytes() > options.max_bytes; ++round) {
      if (!exec("DELETE FROM verdicts WHERE id < (SELECT id FROM verdicts ORDER BY id LIMIT 1 OFFSET "
                "(SELECT COUNT(*) / 10 + 1 FROM verdicts))")) {
        break;
      }
    }
  }

  void warn_once(const std::string& what) {
    auto level = warned ? spdlog::level::debug : spdlog::level::warn;
    warned = true;
    log->log(level, "judge cache {}: {}: {} (the run goes on; this entry is not cached)", options.path, what,
             sqlite3_errmsg(db));
  }
};

Result<std::unique_ptr<LocalJudgeCache>> LocalJudgeCache::open(LocalCacheOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const std::string& path = impl->options.path;
  if (path.empty()) return Error(ErrorKind::kIo, "judge cache: no path (set XDG_CACHE_HOME or HOME)");
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (!directory.empty()) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) return Error(ErrorKind::kIo, "judge cache: cannot create " + directory.string() + ": " + error.message());
    ::chmod(directory.c_str(), 0700);  // verdicts quote the outputs under test
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr) != SQLITE_OK) return impl->failure("cannot open");
  // Setting up may wait for other processes doing the same (switching to WAL takes a lock);
  // this happens before the run starts, so it may wait longer than a write during the run.
  sqlite3_busy_timeout(impl->db, 5000);
  if (!impl->exec("PRAGMA journal_mode=WAL") || !impl->exec("PRAGMA synchronous=NORMAL") ||
      !impl->exec("CREATE TABLE IF NOT EXISTS verdicts (id INTEGER PRIMARY KEY, key TEXT NOT NULL "
                  "UNIQUE, value TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL)")) {
    return impl->failure("cannot set up");
  }
  if (sqlite3_prepare_v3(impl->db, "SELECT value FROM verdicts WHERE key = ? AND expires > ?", -1,
                         SQLITE_PREPARE_PERSISTENT, &impl->select.stmt, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v3(impl->db, "INSERT OR REPLACE INTO verdicts (key, value, created, expires) VALUES (?, ?, ?, ?)",
                         -1, SQLITE_PREPARE_PERSISTENT, &impl->insert.stmt, nullptr) != SQLITE_OK) {
    return impl->failure("cannot prepare");
  }
  impl->sweep();
  sqlite3_busy_handler(impl->db, on_busy, &impl->options.lock_wait);
  return std::unique_ptr<LocalJudgeCache>(new LocalJudgeCache(std::move(impl)));
}

LocalJudgeCache::LocalJudgeCache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LocalJudgeCache::~LocalJudgeCache() = default;

std::optional<CachedVerdict> LocalJudgeCache::get(const std::string& key) {
  sqlite3_stmt* stmt = impl_->select.stmt;
  StepScope scope{stmt};
  sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 2, impl_->now());
  if (sqlite3_step(stmt) != SQLITE_ROW) return std::nullopt;  // a miss, or the file is busy
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  if (text == nullptr) return std::nullopt;
  return parse_cached_verdict(std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0))));
}

void LocalJudgeCache::lookup(const std::string& key, LookupCallback done) { done(get(key)); }

void LocalJudgeCache::store(const std::string& key, const CachedVerdict& verdict) {
  std::string value = serialize(verdict);
  std::int64_t now = impl_->now();
  sqlite3_stmt* stmt = impl_->insert.stmt;
  {
    StepScope scope{stmt};
    sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int64(stmt, 4, now + impl_->options.ttl.count());
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      ++impl_->dropped_writes;
      impl_->warn_once("cannot write");
      return;
    }
  }
  if (++impl_->writes_since_sweep >= kSweepEvery) impl_->sweep();
}

Result<LocalCacheStats> LocalJudgeCache::stats() {
  LocalCacheStats stats;
  stats.path = impl_->options.path;
  Statement statement;
  if (sqlite3_prepare_v2(impl_->db,
                         "SELECT COUNT(*) FILTER (WHERE expires > ?1), COUNT(*) FILTER (WHERE expires <= ?1), "
                         "MIN(created) FILTER (WHERE expires > ?1), MAX(created) FILTER (WHERE expires > ?1) "
                         "FROM verdicts",
                         -1, &statement.stmt, nullptr) != SQLITE_OK) {
    return impl_->failure("cannot read");
  }
  sqlite3_bind_int64(statement.stmt, 1, impl_->now());
  if (sqlite3_step(statement.stmt) != SQLITE_ROW) return impl_->failure("cannot read");
  stats.entries = sqlite3_column_int64(statement.stmt, 0);
  stats.expired = sqlite3_column_int64(statement.stmt, 1);
  stats.oldest = sqlite3_column_int64(statement.stmt, 2);
  stats.newest = sqlite3_column_int64(statement.stmt, 3);
  stats.data_bytes = impl_->data_bytes();
  std::error_code error;
  auto size = std::filesystem::file_size(impl_->options.path, error);
  stats.file_bytes = error ? 0 : static_cast<std::int64_t>(size);
  stats.dropped_writes = impl_->dropped_writes;
  return stats;
}

Result<std::int64_t> LocalJudgeCache::clear() {
  sqlite3_busy_timeout(impl_->db, 5000);  // a command, not a run: it may wait for writers
  auto count = impl_->single_integer("SELECT COUNT(*) FROM verdicts");
  if (!count || !impl_->exec("DELETE FROM verdicts")) return impl_->failure("cannot clear");
  impl_->exec("VACUUM");  // give the space back to the filesystem
  sqlite3_busy_handler(impl_->db, on_busy, &impl_->options.lock_wait);
  return *count;
}

}  // namespace llmeval::cache
