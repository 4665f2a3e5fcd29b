// ECS normalization of Windows events: the table in mappings/windows_ecs.toml
// (compiled into the binary) says, per provider and event ID, the ECS event
// classification and which EventData field becomes which ECS field through
// which transform. This file only interprets that table.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

using EventDataFields = std::vector<std::pair<std::string, std::string>>;

// Appends `,"ecs.field":value` members (dotted keys) for one event, or
// nothing when the table has no entry for (provider, event_id).
void append_ecs_fields(std::string& out, std::string_view provider, std::string_view event_id,
                       const EventDataFields& event_data);

// Splits a Windows command line as CommandLineToArgvW does.
std::vector<std::string> split_command_line(std::string_view command_line);

}  // namespace vigil
