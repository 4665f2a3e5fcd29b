// ECS normalization of Windows events: the table in mappings/windows_ecs.toml
// (compiled into the binary) says, per provider and event ID, the ECS event
// classification and which EventData field becomes which ECS field through
// which transform. This file only interprets that table.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <cstdint>
#include <vector>

#include "core/document.h"

namespace vigil {

// One named EventData value of a Windows event.
struct EventDataField {
  std::string_view name;
  std::string_view value;
};

// Adds the ECS members (event.category/type/action and the mapped fields)
// for one event, or nothing when the table has no entry for (provider, event_id).
void append_ecs_fields(DocBuilder& doc, std::string_view provider, std::string_view event_id,
                       std::span<const EventDataField> event_data);

// One entry of the mapping table, for tools that reason about coverage: which
// Windows event produces which ECS category/type and fields.
struct EcsMappingEntry {
  std::string provider;
  std::int64_t id = 0;
  std::vector<std::string> category;
  std::vector<std::string> type;
  std::string action;
  std::vector<std::string> fields;  // ECS fields it can set (sub-fields of transforms expanded)
  std::vector<std::pair<std::string, std::string>> sources;  // (ECS field, EventData name) pairs
  // The pairs whose ECS value is the EventData value unchanged (as text or as
  // a number): where a Sigma field name may be read in ECS documents.
  std::vector<std::pair<std::string, std::string>> verbatim;
  // The pairs whose ECS value is computed from the EventData text (a flag, a
  // split list, a lookup, a join of several): a filter on the EventData
  // field cannot test the ECS value.
  std::vector<std::pair<std::string, std::string>> derived;
  // Of those, the pairs whose ECS values each occur in the EventData text
  // (process.args split from CommandLine).
  std::vector<std::pair<std::string, std::string>> contained;
  // The pairs whose ECS value is the file name at the end of the EventData path.
  std::vector<std::pair<std::string, std::string>> basename;
};
const std::vector<EcsMappingEntry>& ecs_mapping_entries();

// Splits a Windows command line as CommandLineToArgvW does.
std::vector<std::string> split_command_line(std::string_view command_line);

}  // namespace vigil
