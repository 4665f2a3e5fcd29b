// WindowsEvent: one Windows event as its decoders see it (EVTX binary XML,
// event XML, flat JSON exports): the <System> values and the named
// <EventData> values. build_windows_document() turns it into the document
// every rule sees: winlogbeat's winlog.* fields, event.code/provider/kind,
// host.name, @timestamp, and the ECS fields of the mapping table.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/document.h"
#include "ingest/ecs_mapping.h"

namespace vigil {

struct WindowsEvent {
  // <System>; empty when absent. Views stay valid while the document is built.
  std::string_view provider, provider_guid, event_id, version, level, task, opcode, keywords;
  std::string_view time_created, record_id, channel, computer, process_id, thread_id, user_id;
  // <EventData>: named values in document order (unnamed <Data> are param1, param2, ...).
  std::vector<EventDataField> event_data;
  // For event_data[i] holding an array value, its items (else empty).
  struct ArrayValue {
    std::size_t data_index;
    std::vector<std::string_view> items;
  };
  std::vector<ArrayValue> arrays;
  // <UserData>: dotted paths under winlog.user_data and their text.
  std::vector<EventDataField> user_data;
  // Whether event_data also goes to winlog.event_data (false for flat exports,
  // which keep their fields at the top level).
  bool keep_event_data = true;

  void clear();
};

// Adds the event's members to `doc` (see the file comment). Values are copied
// into the builder's arena unless `values_in_arena` says they already live
// there; winlog.event_data keys are made there.
void build_windows_document(const WindowsEvent& event, DocBuilder& doc, bool values_in_arena = false);

}  // namespace vigil
