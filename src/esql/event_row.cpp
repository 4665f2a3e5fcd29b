// Event → ES|QL row.
#include "esql/event_row.h"

#include "core/document.h"
#include "core/hash.h"
#include "core/text.h"

namespace vigil::esql {
namespace {

void add_value(Cell& cell, const Value& v, bool ip_field, bool lowercase) {
  switch (v.kind()) {
    case ValueKind::Null: return;
    case ValueKind::Bool: cell.push_back(Datum::boolean(v.as_bool())); return;
    case ValueKind::Int: cell.push_back(Datum::integer(v.as_int())); return;
    case ValueKind::Float: cell.push_back(Datum::real(v.as_float())); return;
    case ValueKind::Ip: cell.push_back(Datum::ip(std::string(v.as_string()))); return;
    case ValueKind::String: {
      std::string s(v.as_string());
      if (ip_field && parse_ip(s)) {
        cell.push_back(Datum::ip(std::move(s)));
      } else {
        if (lowercase) s = fold_case(s);
        cell.push_back(Datum::keyword(std::move(s)));
      }
      return;
    }
    case ValueKind::Array:
      for (const Value& x : v.as_array()) add_value(cell, x, ip_field, lowercase);
      return;
  }
}

}  // namespace

EventRows::EventRows(const Plan& plan, FieldRegistry& fields) : plan_(plan), fields_(fields) {
  for (const SourceField& s : plan.source_fields()) {
    ids_.push_back(s.meta == SourceField::Meta::None ? fields.intern(s.field) : 0);
    needs_id_ = needs_id_ || s.meta == SourceField::Meta::Id;
  }
}

Row EventRows::row(const Event& e, std::string_view id) const {
  const auto& sources = plan_.source_fields();
  Row row(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const SourceField& s = sources[i];
    Cell& cell = row[i];
    switch (s.meta) {
      case SourceField::Meta::Id: cell.push_back(Datum::keyword(std::string(id))); continue;
      case SourceField::Meta::Index: cell.push_back(Datum::keyword(std::string(e.file))); continue;
      case SourceField::Meta::Version: cell.push_back(Datum::integer(1)); continue;
      case SourceField::Meta::None: break;
    }
    if (ids_[i] == FieldRegistry::kTimestamp) {
      if (e.has_timestamp) cell.push_back(Datum::date(e.timestamp_ns));
      continue;
    }
    add_value(cell, e.get(ids_[i]), fields_.is_ip(ids_[i]), s.lowercase);
  }
  return row;
}

std::string event_id(const Event& event) {
  std::string doc;
  append_event_json(doc, event);
  return Hash128().add(doc).hex();
}

}  // namespace vigil::esql
