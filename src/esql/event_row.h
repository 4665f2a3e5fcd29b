// An event as the row an ES|QL plan starts from: its source fields
// (esql/plan.h SourceField) read from the event's values by FieldId, typed
// as ES|QL types them (strings are keywords, *.ip fields addresses,
// @timestamp a datetime), lists as multi-valued cells.
#pragma once

#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/field_registry.h"
#include "esql/plan.h"

namespace vigil::esql {

class EventRows {
 public:
  // Registers the plan's source fields (the reader decodes them).
  EventRows(const Plan& plan, FieldRegistry& fields);
  // `id`: the event's _id (METADATA _id), computed by the caller only if `needs_id()`.
  Row row(const Event& event, std::string_view id) const;
  bool needs_id() const { return needs_id_; }

 private:
  const Plan& plan_;
  const FieldRegistry& fields_;
  std::vector<FieldId> ids_;  // per source field (unused for metadata)
  bool needs_id_ = false;
};

// The _id vigil gives an event (the same as an alert's kibana.alert.ancestors id): a hash of its document.
std::string event_id(const Event& event);

}  // namespace vigil::esql
