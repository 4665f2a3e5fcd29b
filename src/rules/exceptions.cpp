// Exception lists: loading Kibana's NDJSON export, matching events.
#include "rules/exceptions.h"

#include <simdjson.h>

#include <fmt/format.h>

#include <fstream>
#include <functional>

namespace vigil {
namespace {

bool each_text(const Value& v, const std::function<bool(std::string_view)>& fn) {
  if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) {
      if (x.is_text() && fn(x.as_string())) return true;
      if (x.kind() == ValueKind::Int && fn(std::to_string(x.as_int()))) return true;
    }
    return false;
  }
  if (v.is_text()) return fn(v.as_string());
  if (v.kind() == ValueKind::Int) return fn(std::to_string(v.as_int()));
  if (v.kind() == ValueKind::Bool) return fn(v.as_bool() ? "true" : "false");
  return false;
}

bool present(const Value& v) { return !v.is_null() && !(v.kind() == ValueKind::Array && v.as_array().empty()); }

bool entry_holds(const ExceptionEntry& e, const Event& event) {
  const Value& v = event.get(e.field);
  bool holds = false;
  switch (e.kind) {
    case ExceptionEntry::Kind::Exists: holds = present(v); break;
    case ExceptionEntry::Kind::Match:
    case ExceptionEntry::Kind::MatchAny:
      holds = each_text(v, [&](std::string_view s) {
        for (const auto& want : e.values) {
          if (s == want) return true;
        }
        return false;
      });
      break;
    case ExceptionEntry::Kind::Wildcard:
      holds = each_text(v, [&](std::string_view s) {
        for (const auto& p : e.patterns) {
          if (p.matches(s)) return true;
        }
        return false;
      });
      break;
    case ExceptionEntry::Kind::List:
      holds = e.list && each_text(v, [&](std::string_view s) { return e.list->count(std::string(s)) > 0; });
      break;
  }
  return e.excluded ? !holds : holds;
}

}  // namespace

bool exception_matches(const ExceptionItem& item, const Event& event) {
  if (item.entries.empty()) return false;
  for (const auto& e : item.entries) {
    if (!entry_holds(e, event)) return false;
  }
  return true;
}

Result<bool> ExceptionLists::add_value_list(const std::string& id, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"exceptions.io", path + ": cannot read the value list"};
  auto set = std::make_shared<std::unordered_set<std::string>>();
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) set->insert(line);
  }
  value_lists_[id] = std::move(set);
  return true;
}

Result<std::size_t> ExceptionLists::load(const std::string& path, FieldRegistry& fields) {
  std::ifstream in(path);
  if (!in) return Error{"exceptions.io", path + ": cannot read the exception list"};
  simdjson::dom::parser parser;
  std::string line;
  std::size_t line_no = 0;
  std::size_t items = 0;
  auto fail = [&](const std::string& what) {
    return Error{"exceptions.schema", fmt::format("{}:{}: {}", path, line_no, what), {static_cast<std::uint32_t>(line_no), 1, 0}};
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) return fail("not a JSON object");
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return fail("not a JSON object");
    std::string_view type, list_id;
    if (obj["exported_exception_list_count"].error() == simdjson::SUCCESS) continue;  // Kibana's summary line
    if (obj["list_id"].get(list_id)) return fail("missing list_id");
    simdjson::dom::array entries;
    if (obj["entries"].get(entries)) {
      // The list itself (no entries): make sure it exists, items may follow.
      lists_[std::string(list_id)];
      continue;
    }
    ExceptionItem item;
    item.list_id = list_id;
    std::string_view s;
    if (!obj["item_id"].get(s)) item.item_id = s;
    if (!obj["name"].get(s)) item.name = s;
    // One entry; a nested entry's sub-entries become entries on parent.sub.
    std::function<std::optional<Error>(simdjson::dom::element, const std::string&)> add_entry =
        [&](simdjson::dom::element entry, const std::string& prefix) -> std::optional<Error> {
      std::string_view field_name, op, kind, text;
      if (entry["field"].get(field_name)) return fail("an entry without a field");
      if (entry["type"].get(kind)) return fail("an entry without a type");
      if (entry["operator"].get(op)) op = "included";
      const std::string field = prefix + std::string(field_name);
      if (kind == "nested") {
        simdjson::dom::array subs;
        if (entry["entries"].get(subs) || subs.size() == 0) {
          return fail(fmt::format("nested entry on {}: needs a non-empty entries array", field));
        }
        for (auto sub : subs) {
          if (auto e = add_entry(sub, field + ".")) return e;
        }
        return std::nullopt;
      }
      ExceptionEntry e;
      e.field = fields.intern(field);
      e.excluded = op == "excluded";
      if (kind == "match" || kind == "wildcard") {
        if (entry["value"].get(text)) return fail(fmt::format("entry on {}: value must be a string", field));
        if (kind == "wildcard") {
          e.kind = ExceptionEntry::Kind::Wildcard;
          e.patterns.emplace_back(text, /*case_insensitive=*/false);
        } else {
          e.kind = ExceptionEntry::Kind::Match;
          e.values.emplace_back(text);
        }
      } else if (kind == "match_any") {
        e.kind = ExceptionEntry::Kind::MatchAny;
        simdjson::dom::array values;
        if (entry["value"].get(values)) return fail(fmt::format("entry on {}: match_any needs a value array", field));
        for (auto v : values) {
          if (!v.get(text)) e.values.emplace_back(text);
        }
      } else if (kind == "exists") {
        e.kind = ExceptionEntry::Kind::Exists;
      } else if (kind == "list") {
        e.kind = ExceptionEntry::Kind::List;
        std::string_view id;
        if (entry["list"]["id"].get(id)) return fail(fmt::format("entry on {}: list needs list.id", field));
        auto it = value_lists_.find(std::string(id));
        if (it == value_lists_.end()) {
          return fail(fmt::format("entry on {}: value list {} not given (use --value-list {}=FILE)", field, id, id));
        }
        e.list = it->second;
      } else {
        return fail(fmt::format("entry on {}: type {} is not supported (match, match_any, exists, wildcard, list, "
                                "nested)", field, kind));
      }
      item.entries.push_back(std::move(e));
      return std::nullopt;
    };
    for (auto entry : entries) {
      if (auto e = add_entry(entry, "")) return *e;
    }
    if (item.entries.empty()) return fail("an item without entries would match every event");
    lists_[item.list_id].push_back(std::move(item));
    ++items;
  }
  return items;
}

std::vector<const ExceptionItem*> ExceptionLists::items_for(const std::vector<std::string>& list_ids) const {
  std::vector<const ExceptionItem*> out;
  for (const auto& id : list_ids) {
    auto it = lists_.find(id);
    if (it == lists_.end()) continue;
    for (const auto& item : it->second) out.push_back(&item);
  }
  return out;
}

std::size_t ExceptionLists::size() const {
  std::size_t n = 0;
  for (const auto& [id, items] : lists_) n += items.size();
  return n;
}

}  // namespace vigil
