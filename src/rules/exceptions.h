// Exceptions: Elastic's exception lists, as Kibana exports them (NDJSON: the
// list, then its items; a trailing export summary line is ignored). An item
// matches an event when all its entries do; an event that any item of a
// rule's lists matches is left out of that rule, before scheduling, as
// Elastic adds exceptions to the rule's query. Entries:
//   match      (Kibana "is")           field equals value (any value of a multi-valued field)
//   match_any  ("is one of")           field equals one of values
//   exists     ("exists")              field present
//   wildcard   ("matches")             field matches a * / ? pattern
//   list       ("is in list")          field equals a line of a value list file
// each with operator "included" or "excluded" (negated). Value lists are
// plain text files, one value per line, named by id (--value-list ID=FILE).
// The format, with examples, is in docs/exceptions.md.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/event.h"
#include "core/field_registry.h"
#include "core/result.h"
#include "core/wildcard.h"

namespace vigil {

struct ExceptionEntry {
  enum class Kind { Match, MatchAny, Exists, Wildcard, List } kind = Kind::Match;
  FieldId field = 0;
  bool excluded = false;  // operator "excluded": the condition negated
  std::vector<std::string> values;
  std::vector<WildcardPattern> patterns;
  std::shared_ptr<const std::unordered_set<std::string>> list;
};

struct ExceptionItem {
  std::string list_id;
  std::string item_id;
  std::string name;
  std::vector<ExceptionEntry> entries;
};

class ExceptionLists {
 public:
  // Value lists by id, for "is in list" entries.
  Result<bool> add_value_list(const std::string& id, const std::string& path);
  // Loads an exception list export; entry fields are registered in `fields`.
  // Errors name the file and line.
  Result<std::size_t> load(const std::string& path, FieldRegistry& fields);

  // The items of these lists (rule.exceptions_list).
  std::vector<const ExceptionItem*> items_for(const std::vector<std::string>& list_ids) const;
  std::size_t size() const;

 private:
  std::map<std::string, std::vector<ExceptionItem>> lists_;
  std::map<std::string, std::shared_ptr<const std::unordered_set<std::string>>> value_lists_;
};

// True when every entry of `item` holds for `event`.
bool exception_matches(const ExceptionItem& item, const Event& event);

}  // namespace vigil
