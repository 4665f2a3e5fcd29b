// BaselineStore: what is normal, persisted in one SQLite file. A baseline
// holds, per rarity spec (a set of fields, a scope and a population; see
// baseline/rarity.h) and per entity (a host, a user, or the fleet), every
// term seen (the value combination of the spec's fields) with its count and
// first/last time seen. `vigil baseline learn` adds inputs to it in one
// transaction (WAL: a kill at any point leaves the previous state), records
// which inputs it learned so the same file is never counted twice, ages out
// terms not seen for a while and caps the size (evicting the least recently
// seen, counted). `vigil hunt --baseline` looks terms up.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"
#include "store/sqlite_db.h"

namespace vigil {

struct TermStats {
  std::int64_t count = 0;
  TimestampNs first_seen = 0;
  TimestampNs last_seen = 0;
};

struct BaselineSpecRow {
  std::int64_t number = 0;
  std::string id;           // stable hash of the definition
  std::string description;  // fields, scope, population
  std::string rules;        // names of the rules that use it
  std::uint64_t terms = 0;
  std::uint64_t entities = 0;
};

struct BaselineTermRow {
  std::string entity;
  std::string term;
  TermStats stats;
};

class BaselineStore {
 public:
  static Result<std::unique_ptr<BaselineStore>> open(const std::string& path);
  ~BaselineStore();

  // One transaction around a whole learn.
  Result<bool> begin();
  // A read transaction around a whole hunt: one snapshot, no lock per lookup.
  Result<bool> begin_read();
  Result<bool> commit();
  void rollback();

  // The spec's number, creating the spec if it is new.
  Result<std::int64_t> spec_number(const std::string& id, const std::string& description, const std::string& rules);
  // The spec's number if the baseline knows it.
  std::optional<std::int64_t> find_spec(const std::string& id);

  // Adds counts to a term (creating it).
  Result<bool> add(std::int64_t spec, std::string_view entity, std::string_view term, const TermStats& stats);
  std::optional<TermStats> lookup(std::int64_t spec, std::string_view entity, std::string_view term);

  // Inputs learned before (key: path, size and modification time).
  bool learned(const std::string& key);
  Result<bool> record_input(const std::string& key, const std::string& path, std::uint64_t events);

  // Drops terms last seen more than `max_age_ns` before the newest last-seen
  // time in the baseline; returns how many.
  Result<std::uint64_t> age(std::int64_t max_age_ns);
  // Keeps the `max_terms` most recently seen terms; returns how many went.
  Result<std::uint64_t> cap(std::uint64_t max_terms);

  void add_counter(const char* name, std::int64_t n);
  std::int64_t counter(const char* name);

  Result<std::vector<BaselineSpecRow>> specs();
  // Terms of a spec, most frequent first (or rarest first), optionally for one entity.
  Result<std::vector<BaselineTermRow>> terms(std::int64_t spec, const std::optional<std::string>& entity, bool rarest,
                                             std::size_t limit);
  std::uint64_t term_count();
  std::uint64_t input_count();

 private:
  explicit BaselineStore(std::unique_ptr<SqliteDb> db);
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<Statement> upsert_;
  std::unique_ptr<Statement> lookup_;
};

}  // namespace vigil
