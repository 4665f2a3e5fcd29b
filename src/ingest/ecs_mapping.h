// ECS normalization of Windows events: the table in mappings/windows_ecs.toml
// (compiled into the binary) says, per provider and event ID, the ECS event
// classification and which EventData field becomes which ECS field through
// which transform. This file only interprets that table.
#pragma once

#include <span>
#include <string>
#include <string_view>
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

// Splits a Windows command line as CommandLineToArgvW does.
std::vector<std::string> split_command_line(std::string_view command_line);

}  // namespace vigil
