// RuleCache: rules parsed before, kept on disk so that a rule directory
// loaded again skips TOML parsing (~0.1 s of every start with Elastic's
// 487 Windows rules). A SQLite file (parsed-rules.sqlite in the cache
// directory) maps (the vigil build, a 128-bit hash of the file's text) to
// its rules in binary form (rules/rule_codec.h; a Sigma file's key also
// names the options it was translated with): a changed file or another
// vigil binary misses and is parsed again; the same text under another path
// (a copy, a symlink in a scratch directory) hits, its path set on loading.
// The cache is only ever an optimisation: if it cannot be opened, read or
// written, rules load as they would without it; a damaged file is replaced
// by a new one. It is bounded: entries stored more than 30 days ago are
// dropped, other builds' once a day old, and beyond `max_entries` other
// builds' then the oldest (a hit older than a day counts as stored again).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/wildcard_set.h"
#include "rules/rule_loader.h"
#include "store/sqlite_db.h"

namespace vigil {

// It is also the CompiledSetStore (core/wildcard_set.h) of the commands
// that open it: vectorscan databases compiled during a run (a few hundred
// with SigmaHQ's rules, ~1.5 s to compile) are written when the cache
// closes, under the same bounds, and loaded by the next run.
class RuleCache final : public ParsedRuleCache, public CompiledSetStore {
 public:
  // The cache under `dir` (created if missing); null if it cannot be used
  // there, or if this binary has no build id to key it by.
  // Two builds of SigmaHQ's and Elastic's Windows rules (2 x 2,894 files:
  // an upgrade, or two binaries run in turn, each keeps its entries; at
  // 4,096 each run of one parsed ~30 % of the files again): ~35 MB of
  // parsed rules, beside the compiled vectorscan sets.
  static constexpr std::size_t kDefaultMaxEntries = 8192;
  static constexpr const char* kFileName = "parsed-rules.sqlite";
  static std::unique_ptr<RuleCache> open(const std::string& dir, std::size_t max_entries = kDefaultMaxEntries);
  // The directory the CLI uses: $VIGIL_CACHE_DIR (empty: no cache), else
  // $XDG_CACHE_HOME/vigil, else $HOME/.cache/vigil; nothing if none is set.
  static std::optional<std::string> default_dir();
  // The cache in default_dir(), or null (none, `disabled`, or unusable).
  static std::unique_ptr<RuleCache> open_default(bool disabled = false);

  std::vector<std::optional<std::string>> find(const std::vector<std::string>& keys) override;
  void store(const std::vector<std::pair<std::string, std::string>>& entries) override;

  std::optional<std::string> find(const std::string& key) override;  // CompiledSetStore
  void store(const std::string& key, std::string bytes) override;    // kept until the cache closes
  ~RuleCache() override;

  std::size_t hits() const { return hits_; }
  std::size_t compiled_set_hits() const { return set_hits_; }
  std::size_t entries() const;  // rows in the file now

 private:
  RuleCache(std::unique_ptr<SqliteDb> db, std::string path, std::string build, std::size_t max_entries)
      : db_(std::move(db)), path_(std::move(path)), build_(std::move(build)), max_entries_(max_entries) {}
  // Opens (or creates) the file; a damaged one is removed and created anew.
  static std::unique_ptr<SqliteDb> open_file(const std::string& path);
  static void remove_files(const std::string& path);  // the database and its WAL files
  void start_again();  // replaces a damaged file by a new, empty one
  // One transaction on `table` (parsed_rules or compiled_sets): inserts
  // `entries`, counts `refresh_keys` as stored now, drops what is past the bounds.
  bool write(std::string_view table, std::string_view blob_column,
             const std::vector<std::pair<std::string, std::string>>& entries, const std::vector<std::string>& refresh_keys);
  std::unique_ptr<SqliteDb> db_;  // null after a damaged file could not be created anew
  std::string path_;
  std::string build_;  // this binary's build id (hex)
  std::size_t max_entries_;
  std::size_t hits_ = 0;
  std::vector<std::string> stale_;  // keys hit whose entry is over a day old: store() refreshes them
  bool damaged_ = false;  // a lookup met a corrupt page: store() starts the file again
  // CompiledSetStore: called from any thread.
  std::mutex sets_mutex_;
  std::vector<std::pair<std::string, std::string>> new_sets_;  // written on closing
  std::size_t set_hits_ = 0;
  void write_sets();
};

// The GNU build id of the running program, in hex; empty if it has none.
std::string program_build_id();

}  // namespace vigil
