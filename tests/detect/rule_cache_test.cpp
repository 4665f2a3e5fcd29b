// The parsed-rule cache: the binary form of a rule gives back the same rule
// for every Elastic rule; a rule directory loaded twice comes the second time
// from the cache, unchanged, with the same diagnostics; changed files and
// files with errors are parsed; a damaged cache is started again and an
// unusable one ignored; the same text under another path hits; the file
// stays under its cap of entries.
#include "store/rule_cache.h"

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "detect/rule_set.h"
#include "rules/rule_codec.h"
#include "store/sqlite_db.h"

#include <sqlite3.h>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> rule_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".toml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("vigil-rule-cache-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A directory of `n` Elastic Windows rules (copies: the test changes them).
fs::path copy_rules(const TempDir& dir, std::size_t n) {
  fs::path rules = dir.path() / "rules";
  fs::create_directories(rules);
  auto files = rule_files(fs::path(VIGIL_SHARED_DIR) / "rules/elastic/windows");
  for (std::size_t i = 0; i < n && i < files.size(); ++i) fs::copy_file(files[i], rules / files[i].filename());
  return rules;
}

}  // namespace

TEST(RuleCodec, EveryElasticAndSeedRuleDecodesToTheSameRule) {
  std::size_t checked = 0;
  for (const fs::path& dir : {fs::path(VIGIL_SHARED_DIR) / "rules/elastic", fs::path(VIGIL_SOURCE_DIR) / "rules"}) {
    for (const fs::path& file : rule_files(dir)) {
      auto rule = parse_rule_toml(slurp(file), file.string());
      if (!rule) continue;
      std::string bytes = encode_rule(*rule);
      std::optional<Rule> back = decode_rule(bytes);
      ASSERT_TRUE(back) << file;
      EXPECT_TRUE(*back == *rule) << file;
      ++checked;
    }
  }
  EXPECT_GT(checked, 480u);
}

TEST(RuleCodec, DamagedBytesDecodeToNothing) {
  auto file = rule_files(fs::path(VIGIL_SHARED_DIR) / "rules/elastic/windows").front();
  auto rule = parse_rule_toml(slurp(file), file.string());
  ASSERT_TRUE(rule);
  const std::string bytes = encode_rule(*rule);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_rule(std::string_view(bytes).substr(0, n))) << "a prefix of " << n << " bytes";
  }
  EXPECT_FALSE(decode_rule(bytes + "x")) << "trailing bytes";
  std::string other_format = bytes;
  other_format[0] = static_cast<char>(other_format[0] + 1);
  EXPECT_FALSE(decode_rule(other_format));
  // Any single damaged byte: nothing, or some rule — never a crash or a hang.
  for (std::size_t i = 1; i < bytes.size(); i += 7) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0xff);
    (void)decode_rule(damaged);
  }
}

TEST(RuleCache, SecondLoadTakesEveryRuleFromTheCacheUnchanged) {
  TempDir dir;
  fs::path rules = copy_rules(dir, 20);
  LoadedRules parsed = load_rules({rules.string()}, 1);
  ASSERT_EQ(parsed.rules.size(), 20u);
  {
    auto cache = RuleCache::open((dir.path() / "cache").string());
    ASSERT_TRUE(cache);
    LoadedRules first = load_rules({rules.string()}, 1, cache.get());
    EXPECT_EQ(cache->hits(), 0u);
    EXPECT_TRUE(first.rules == parsed.rules);
  }
  auto cache = RuleCache::open((dir.path() / "cache").string());  // as the next run opens it
  ASSERT_TRUE(cache);
  LoadedRules second = load_rules({rules.string()}, 2, cache.get());
  EXPECT_EQ(cache->hits(), 20u);
  EXPECT_TRUE(second.rules == parsed.rules);
  EXPECT_TRUE(second.diagnostics.empty());
}

TEST(RuleCache, ChangedFileIsParsedAgain) {
  TempDir dir;
  fs::path rules = copy_rules(dir, 5);
  const fs::path cache_dir = dir.path() / "cache";
  {
    auto cache = RuleCache::open(cache_dir.string());
    load_rules({rules.string()}, 1, cache.get());
  }
  const fs::path changed = rule_files(rules).front();
  std::string text = slurp(changed);
  const std::size_t at = text.find("\nname = \"");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 9, "Renamed ");
  std::ofstream(changed, std::ios::binary | std::ios::trunc) << text;
  auto cache = RuleCache::open(cache_dir.string());
  LoadedRules loaded = load_rules({rules.string()}, 1, cache.get());
  EXPECT_EQ(cache->hits(), 4u);
  ASSERT_EQ(loaded.rules.size(), 5u);
  EXPECT_TRUE(loaded.rules.front().name.starts_with("Renamed ")) << loaded.rules.front().name;
}

TEST(RuleCache, DiagnosticsAreTheSameFromTheCache) {
  TempDir dir;
  fs::path rules = dir.path() / "rules";
  fs::create_directories(rules);
  // A TOML error (never cached) and an EQL error (the rule is cached; the
  // query's position in the file must come back with it).
  std::ofstream(rules / "bad_toml.toml") << "[rule]\nname = \"x\nrule_id = \"y\"\n";
  std::ofstream(rules / "bad_eql.toml") << "[rule]\nname = \"n\"\nrule_id = \"r\"\ntype = \"eql\"\nlanguage = \"eql\"\n"
                                           "description = \"d\"\nrisk_score = 21\nseverity = \"low\"\n"
                                           "query = '''\nprocess where process.name == \"x\" and )\n'''\n";
  auto diagnostics = [&](ParsedRuleCache* cache) {
    auto set = compile_rules({rules.string()}, {}, 1, cache);
    std::string out;
    for (const auto& d : set->diagnostics) out += format_rule_diagnostic(d);
    return out;
  };
  const std::string expected = diagnostics(nullptr);
  ASSERT_NE(expected.find("bad_toml.toml:2:"), std::string::npos) << expected;
  ASSERT_NE(expected.find("bad_eql.toml:10:39:"), std::string::npos) << expected;
  for (int run = 0; run < 2; ++run) {
    auto cache = RuleCache::open((dir.path() / "cache").string());
    ASSERT_TRUE(cache);
    EXPECT_EQ(diagnostics(cache.get()), expected) << "run " << run;
    EXPECT_EQ(cache->hits(), run == 0 ? 0u : 1u);  // only the rule that parsed
  }
}

TEST(RuleCache, SigmaFilesComeBackTranslatedWithTheirWarnings) {
  TempDir dir;
  const std::string sigma = fs::path(VIGIL_SHARED_DIR) / "rules/sigma/sigmahq/rules/windows";
  auto summary = [](const LoadedRules& loaded) {
    std::string out;
    for (const auto& d : loaded.diagnostics) out += format_rule_diagnostic(d);
    return out;
  };
  const LoadedRules parsed = load_rules({sigma}, 1);
  ASSERT_GT(parsed.rules.size(), 2'000u);
  ASSERT_GT(parsed.sigma_skipped, 0u);  // documents vigil does not run: their warnings must come back too
  std::size_t hits = 0;
  for (int run = 0; run < 2; ++run) {
    auto cache = RuleCache::open((dir.path() / "cache").string());
    ASSERT_TRUE(cache);
    LoadedRules loaded = load_rules({sigma}, 2, cache.get());
    EXPECT_TRUE(loaded.rules == parsed.rules) << "run " << run;
    EXPECT_EQ(summary(loaded), summary(parsed)) << "run " << run;
    EXPECT_EQ(loaded.sigma_skipped, parsed.sigma_skipped);
    EXPECT_EQ(loaded.sigma_files, parsed.sigma_files);
    hits = cache->hits();
    if (run == 0) {
      EXPECT_EQ(hits, 0u);
    }
  }
  EXPECT_EQ(hits, parsed.sigma_files);
}

TEST(RuleCache, ASigmaFileIsTranslatedAgainForOtherPlaceholderValues) {
  TempDir dir;
  const fs::path rule = dir.path() / "rule.yml";
  std::ofstream(rule) << "title: t\nid: 0b5d7a3a-0000-4000-8000-000000000001\nlogsource:\n  product: windows\n"
                         "  category: process_creation\ndetection:\n  sel:\n    User|expand: '%admins%'\n"
                         "  condition: sel\n";
  auto load = [&](const std::string& value) {
    SigmaPlaceholders placeholders{{"admins", {value}}};
    RuleLoadOptions options;
    options.sigma.placeholders = &placeholders;
    auto cache = RuleCache::open((dir.path() / "cache").string());
    LoadedRules loaded = load_rules({rule.string()}, 1, cache.get(), options);
    EXPECT_EQ(loaded.rules.size(), 1u);
    return loaded.rules.empty() ? std::string() : loaded.rules[0].query;
  };
  EXPECT_NE(load("alice").find("alice"), std::string::npos);
  const std::string bob = load("bob");
  EXPECT_NE(bob.find("bob"), std::string::npos);
  EXPECT_EQ(bob.find("alice"), std::string::npos) << bob;
  EXPECT_NE(load("alice").find("alice"), std::string::npos);
}

TEST(RuleCache, CompiledSetsAreKeptForTheNextRun) {
  TempDir dir;
  const std::vector<std::string> literals = {"mimikatz", "sekurlsa", "\\temp\\"};
  {
    auto cache = RuleCache::open((dir.path() / "cache").string());
    ASSERT_TRUE(cache);
    set_compiled_set_store(cache.get());
    EXPECT_FALSE(WildcardSet::load_literals(literals));  // nothing kept yet
    ASSERT_TRUE(WildcardSet::compile_literals(literals));
  }  // written as the cache closes (and no longer the store)
  EXPECT_EQ(compiled_set_store(), nullptr);
  auto cache = RuleCache::open((dir.path() / "cache").string());
  ASSERT_TRUE(cache);
  set_compiled_set_store(cache.get());
  auto loaded = WildcardSet::load_literals(literals);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(cache->compiled_set_hits(), 1u);
  WildcardScratch scratch;
  std::vector<unsigned> found;
  loaded->matching("run Mimikatz from c:\\TEMP\\x", scratch, found);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (std::vector<unsigned>{0, 2}));
  // Other literals, or the same ones in another order, are another set.
  EXPECT_FALSE(WildcardSet::load_literals(std::vector<std::string>{"mimikatz", "sekurlsa"}));
  EXPECT_FALSE(WildcardSet::load_literals(std::vector<std::string>{"sekurlsa", "mimikatz", "\\temp\\"}));
  set_compiled_set_store(nullptr);
}

// A compiled set whose bytes were damaged on disk does not deserialize
// (vectorscan checks its CRC): the set is compiled again and works.
TEST(RuleCache, ADamagedCompiledSetIsCompiledAgain) {
  TempDir dir;
  const std::vector<std::string> literals = {"mimikatz", "sekurlsa", "\\temp\\"};
  {
    auto cache = RuleCache::open((dir.path() / "cache").string());
    ASSERT_TRUE(cache);
    set_compiled_set_store(cache.get());
    ASSERT_TRUE(WildcardSet::compile_literals(literals));
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "cache" / RuleCache::kFileName).c_str(), &db), SQLITE_OK);
    sqlite3_stmt* select = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT key, db FROM compiled_sets", -1, &select, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(select), SQLITE_ROW);
    const std::string key(reinterpret_cast<const char*>(sqlite3_column_text(select, 0)), sqlite3_column_bytes(select, 0));
    std::string bytes(static_cast<const char*>(sqlite3_column_blob(select, 1)), sqlite3_column_bytes(select, 1));
    sqlite3_finalize(select);
    ASSERT_GT(bytes.size(), 64u);
    for (std::size_t at = bytes.size() / 2; at < bytes.size() / 2 + 8; ++at) bytes[at] = static_cast<char>(~bytes[at]);
    sqlite3_stmt* update = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE compiled_sets SET db = ? WHERE key = ?", -1, &update, nullptr), SQLITE_OK);
    sqlite3_bind_blob(update, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(update, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
    ASSERT_EQ(sqlite3_changes(db), 1);
    sqlite3_finalize(update);
    sqlite3_close(db);
  }
  auto cache = RuleCache::open((dir.path() / "cache").string());
  ASSERT_TRUE(cache);
  set_compiled_set_store(cache.get());
  EXPECT_FALSE(WildcardSet::load_literals(literals));  // the damaged entry is not used
  auto compiled = WildcardSet::compile_literals(literals);
  ASSERT_TRUE(compiled);
  WildcardScratch scratch;
  std::vector<unsigned> found;
  compiled->matching("sekurlsa::logonpasswords", scratch, found);
  EXPECT_EQ(found, (std::vector<unsigned>{1}));
  set_compiled_set_store(nullptr);
}

TEST(RuleCache, DamagedCacheIsStartedAgain) {
  TempDir dir;
  fs::path rules = copy_rules(dir, 30);
  const LoadedRules parsed = load_rules({rules.string()}, 1);
  auto load_twice = [&](const fs::path& cache_dir) {
    std::size_t hits = 0;
    for (int run = 0; run < 2; ++run) {
      auto cache = RuleCache::open(cache_dir.string());
      if (!cache) return std::size_t{999};
      LoadedRules loaded = load_rules({rules.string()}, 1, cache.get());
      EXPECT_TRUE(loaded.rules == parsed.rules) << cache_dir << " run " << run;
      hits = cache->hits();
    }
    return hits;  // of the second run
  };
  // Not a database at all.
  fs::create_directories(dir.path() / "garbage");
  std::ofstream(dir.path() / "garbage" / RuleCache::kFileName) << std::string(8192, 'x');
  EXPECT_EQ(load_twice(dir.path() / "garbage"), 30u);
  // A database whose pages were overwritten: whatever SQLite or the codec
  // notices is parsed again and the file repaired or started again.
  const fs::path damaged = dir.path() / "damaged";
  EXPECT_EQ(load_twice(damaged), 30u);
  const fs::path file = damaged / RuleCache::kFileName;
  const auto size = fs::file_size(file);
  ASSERT_GT(size, 4096u);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    for (std::uintmax_t at = 4096; at < size; at += 3000) {
      f.seekp(static_cast<std::streamoff>(at));
      f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
    }
  }
  EXPECT_EQ(load_twice(damaged), 30u);
}

TEST(RuleCache, TheSameTextUnderAnotherPathHitsWithItsOwnPath) {
  // A scratch directory of copies (or symlinks) each run, as scripts and
  // tests make: hits, and every rule names the file it was loaded from.
  TempDir dir;
  fs::path rules = copy_rules(dir, 10);
  const fs::path cache_dir = dir.path() / "cache";
  {
    auto cache = RuleCache::open(cache_dir.string());
    load_rules({rules.string()}, 1, cache.get());
  }
  const fs::path moved = dir.path() / "elsewhere";
  fs::rename(rules, moved);
  const LoadedRules parsed = load_rules({moved.string()}, 1);
  auto cache = RuleCache::open(cache_dir.string());
  LoadedRules loaded = load_rules({moved.string()}, 1, cache.get());
  EXPECT_EQ(cache->hits(), 10u);
  ASSERT_EQ(loaded.rules.size(), 10u);
  EXPECT_TRUE(loaded.rules == parsed.rules);
  for (const Rule& r : loaded.rules) EXPECT_TRUE(r.file.starts_with(moved.string())) << r.file;
  EXPECT_EQ(cache->entries(), 10u) << "the same texts are not stored twice";
}

TEST(RuleCache, KeepsAtMostItsCapDroppingTheOldest) {
  TempDir dir;
  fs::path rules = copy_rules(dir, 12);
  const fs::path cache_dir = dir.path() / "cache";
  {
    auto cache = RuleCache::open(cache_dir.string(), 8);
    load_rules({rules.string()}, 1, cache.get());
    EXPECT_EQ(cache->entries(), 8u);
  }
  // Each of the 12 texts changed: 12 new entries, still 8 in the file.
  for (const fs::path& f : rule_files(rules)) {
    std::string text = slurp(f);
    std::ofstream(f, std::ios::binary | std::ios::trunc) << text << "\n# changed\n";
  }
  auto cache = RuleCache::open(cache_dir.string(), 8);
  LoadedRules loaded = load_rules({rules.string()}, 1, cache.get());
  EXPECT_EQ(loaded.rules.size(), 12u);
  EXPECT_EQ(cache->hits(), 0u);
  EXPECT_EQ(cache->entries(), 8u);
  // A cache of one entry still serves (the one rule).
  auto one = RuleCache::open((dir.path() / "one").string(), 1);
  load_rules({rule_files(rules).front().string()}, 1, one.get());
  auto again = RuleCache::open((dir.path() / "one").string(), 1);
  load_rules({rule_files(rules).front().string()}, 1, again.get());
  EXPECT_EQ(again->hits(), 1u);
  EXPECT_EQ(again->entries(), 1u);
}

TEST(RuleCache, AHitOverADayOldIsStoredAgainAndEntriesOver30DaysGo) {
  TempDir dir;
  fs::path rules = copy_rules(dir, 4);
  const fs::path cache_dir = dir.path() / "cache";
  {
    auto cache = RuleCache::open(cache_dir.string());
    load_rules({rules.string()}, 1, cache.get());
  }
  const std::int64_t now = std::time(nullptr);
  auto set_stored = [&](std::int64_t when) {
    auto db = SqliteDb::open((cache_dir / RuleCache::kFileName).string(), "");
    ASSERT_TRUE(db);
    Statement update(**db, "UPDATE parsed_rules SET stored = ?");
    update.bind(1, when);
    update.step();
    ASSERT_FALSE(update.failed());
  };
  auto oldest = [&] {
    auto db = SqliteDb::open((cache_dir / RuleCache::kFileName).string(), "");
    Statement q(**db, "SELECT min(stored) FROM parsed_rules");
    return q.step() ? q.integer(0) : -1;
  };
  set_stored(now - 2 * 24 * 3600);  // two days old, hit: stored again
  {
    auto cache = RuleCache::open(cache_dir.string());
    load_rules({rules.string()}, 1, cache.get());
    EXPECT_EQ(cache->hits(), 4u);
  }
  EXPECT_GE(oldest(), now);
  set_stored(now - 12 * 3600);  // half a day: a hit writes nothing
  {
    auto cache = RuleCache::open(cache_dir.string());
    load_rules({rules.string()}, 1, cache.get());
  }
  EXPECT_EQ(oldest(), now - 12 * 3600);
  // 31 days old: gone at the next store (another rule's).
  set_stored(now - 31 * 24 * 3600);
  fs::path other = dir.path() / "other";
  fs::create_directories(other);
  fs::copy_file(rule_files(fs::path(VIGIL_SHARED_DIR) / "rules/elastic/windows").back(), other / "last.toml");
  auto cache = RuleCache::open(cache_dir.string());
  load_rules({other.string()}, 1, cache.get());
  EXPECT_EQ(cache->entries(), 1u);
}

TEST(RuleCache, ThisBuildsEntriesOutliveOtherBuildsAndThoseGoADayOld) {
  TempDir dir;
  fs::path rules = copy_rules(dir, 4);
  const fs::path cache_dir = dir.path() / "cache";
  const fs::path file = cache_dir / RuleCache::kFileName;
  {
    auto cache = RuleCache::open(cache_dir.string(), 8);
    load_rules({rules.string()}, 1, cache.get());
  }
  const std::int64_t now = std::time(nullptr);
  auto sql = [&](const std::string& statement, std::int64_t when) {
    auto db = SqliteDb::open(file.string(), "");
    ASSERT_TRUE(db);
    Statement s(**db, statement);
    s.bind(1, when);
    s.step();
    ASSERT_FALSE(s.failed()) << statement;
  };
  auto count = [&](const std::string& where) {
    auto db = SqliteDb::open(file.string(), "");
    Statement q(**db, "SELECT count(*) FROM parsed_rules WHERE " + where);
    return q.step() ? q.integer(0) : -1;
  };
  const std::string other = "substr(key, 1, 5) = 'ffff:'";
  // This build's 4 entries, hit this morning (not stored again); another
  // build's 6, stored since; 2 more of it two days old.
  sql("UPDATE parsed_rules SET stored = ?", now - 3 * 3600);
  for (int i = 0; i < 6; ++i) {
    sql("INSERT INTO parsed_rules (key, rule, stored) VALUES ('ffff:new" + std::to_string(i) + "', x'00', ?)", now - 3600);
  }
  for (int i = 0; i < 2; ++i) {
    sql("INSERT INTO parsed_rules (key, rule, stored) VALUES ('ffff:old" + std::to_string(i) + "', x'00', ?)",
        now - 2 * 24 * 3600);
  }
  // 2 new texts of this build: 6 of its own + 6 of the other's is past the cap of 8.
  std::vector<fs::path> files = rule_files(rules);
  for (std::size_t i = 0; i < 2; ++i) std::ofstream(files[i], std::ios::app) << "\n# changed\n";
  auto cache = RuleCache::open(cache_dir.string(), 8);
  load_rules({rules.string()}, 1, cache.get());
  EXPECT_EQ(cache->hits(), 2u);
  EXPECT_EQ(count("NOT (" + other + ")"), 6) << "this build's entries are kept first, the ones hit this morning too";
  EXPECT_EQ(count(other + " AND key LIKE 'ffff:old%'"), 0) << "another build's, a day old: gone";
  EXPECT_EQ(count(other), 2) << "another build's recent entries fill what the cap leaves";
}

TEST(RuleCache, TheFileOfOlderBuildsIsRemoved) {
  // rules.sqlite: keyed by path, and unbounded; nothing in it is of use.
  TempDir dir;
  const fs::path cache_dir = dir.path() / "cache";
  fs::create_directories(cache_dir);
  std::ofstream(cache_dir / "rules.sqlite") << std::string(4096, 'x');
  std::ofstream(cache_dir / "rules.sqlite-wal") << "x";
  auto cache = RuleCache::open(cache_dir.string());
  ASSERT_TRUE(cache);
  EXPECT_FALSE(fs::exists(cache_dir / "rules.sqlite"));
  EXPECT_FALSE(fs::exists(cache_dir / "rules.sqlite-wal"));
  EXPECT_TRUE(fs::exists(cache_dir / RuleCache::kFileName));
}

TEST(RuleCache, UnusableDirectoryIsIgnored) {
  TempDir dir;
  fs::path rules = copy_rules(dir, 3);
  std::ofstream(dir.path() / "plain-file") << "x";  // a file where the directory should be
  EXPECT_FALSE(RuleCache::open((dir.path() / "plain-file").string()));
  EXPECT_EQ(load_rules({rules.string()}, 1, nullptr).rules.size(), 3u);
}

TEST(RuleCache, KeyedByTheBuildOfThisProgram) {
  // Another binary (another build id) never reads this one's entries.
  EXPECT_EQ(program_build_id().size(), 40u) << "GNU build ids are 20 bytes (SHA-1)";
}

TEST(RuleSet, DuplicateRuleIdRunsTheHigherVersionWhateverTheOrder) {
  TempDir dir;
  auto rule = [](int version, const char* date, const char* name) {
    return std::string("[metadata]\nupdated_date = \"") + date +
           "\"\n[rule]\nname = \"" + name + "\"\nrule_id = \"same-id\"\ntype = \"eql\"\nlanguage = \"eql\"\n"
           "description = \"d\"\nrisk_score = 21\nseverity = \"low\"\n" +
           (version ? "version = " + std::to_string(version) + "\n" : std::string()) +
           "query = '''\nprocess where true\n'''\n";
  };
  fs::path a = dir.path() / "a", b = dir.path() / "b";
  fs::create_directories(a);
  fs::create_directories(b);
  std::ofstream(a / "r.toml") << rule(3, "2020/01/01", "Three");
  std::ofstream(b / "r.toml") << rule(2, "2026/01/01", "Two");
  for (const auto& order : {std::vector<std::string>{a.string(), b.string()}, {b.string(), a.string()}}) {
    auto set = compile_rules(order, {}, 1, nullptr);
    ASSERT_EQ(set->compiled.size(), 1u);
    EXPECT_EQ(set->compiled[0].rule->name, "Three");  // the higher version, not the later date or the first loaded
    ASSERT_EQ(set->diagnostics.size(), 1u);
    EXPECT_EQ(set->diagnostics[0].error.code, "rule.duplicate_id");
    EXPECT_NE(set->diagnostics[0].error.message.find("version 3"), std::string::npos);
  }
  // Same version (none written: 1): the later updated_date runs.
  std::ofstream(a / "r.toml", std::ios::trunc) << rule(0, "2020/01/01", "Old");
  std::ofstream(b / "r.toml", std::ios::trunc) << rule(0, "2026/01/01", "New");
  for (const auto& order : {std::vector<std::string>{a.string(), b.string()}, {b.string(), a.string()}}) {
    auto set = compile_rules(order, {}, 1, nullptr);
    ASSERT_EQ(set->compiled.size(), 1u);
    EXPECT_EQ(set->compiled[0].rule->name, "New");
  }
}

TEST(RuleCache, TwoBuildsOfSigmaHQsAndElasticsWindowsRulesFitTheDefaultCap) {
  // 2,407 SigmaHQ Windows rule files and 487 Elastic ones (../shared): two
  // binaries run in turn over both must not push each other's entries out.
  EXPECT_GE(RuleCache::kDefaultMaxEntries, 2u * (2407 + 487));
}
