// The winlogbeat-shaped document of a Windows event, plus its ECS fields.
#include "ingest/windows_event.h"

#include <charconv>

namespace vigil {

void WindowsEvent::clear() {
  for (std::string_view* v : {&provider, &provider_guid, &event_id, &version, &level, &task, &opcode, &keywords,
                              &time_created, &record_id, &channel, &computer, &process_id, &thread_id, &user_id}) {
    *v = {};
  }
  keep_event_data = true;
  event_data.clear();
  arrays.clear();
  user_data.clear();
}

namespace {

// Numbers winlogbeat writes as JSON numbers; other text stays text.
void number_or_text(DocBuilder& doc, std::string_view key, std::string_view text) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (!text.empty() && ec == std::errc() && p == text.data() + text.size() && text[0] != '-') {
    doc.integer(key, n);
  } else {
    doc.text(key, text);
  }
}

// Some events name two <Data> alike (Security 4648 has LogonGuid twice): the
// same name with the same text is written once; with different texts both
// are kept (the field becomes multi-valued), so nothing is lost.
bool repeats_earlier(const WindowsEvent& e, std::size_t i, std::uint64_t& seen) {
  const EventDataField& d = e.event_data[i];
  // A 64-bit filter on (length, first, last character) spares the scan for
  // the names that cannot repeat: nearly all of them.
  std::uint64_t bit = d.name.empty() ? 1
                                     : std::uint64_t{1} << ((d.name.size() * 7 + static_cast<unsigned char>(d.name[0]) +
                                                             static_cast<unsigned char>(d.name.back()) * 3) & 63);
  bool maybe = (seen & bit) != 0;
  seen |= bit;
  if (!maybe) return false;
  for (std::size_t j = 0; j < i; ++j) {
    if (e.event_data[j].name == d.name && e.event_data[j].value == d.value) return true;
  }
  return false;
}

}  // namespace

void build_windows_document(const WindowsEvent& e, DocBuilder& doc, bool values_in_arena) {
  doc.set_values_in_arena(values_in_arena);
  doc.text("@timestamp", e.time_created);
  doc.text("event.code", e.event_id);
  doc.text("event.provider", e.provider);
  doc.text("event.kind", "event");
  doc.text("host.name", e.computer);
  // Every source here is a Windows event log: rules select on it
  // (`host.os.type == "windows"` in most Elastic rules).
  doc.text("host.os.type", "windows");
  doc.text("host.os.family", "windows");
  doc.text("host.os.platform", "windows");
  // The dataset Elastic's integrations file these channels under (rules select on it).
  std::string_view dataset;
  if (e.provider == "Microsoft-Windows-Sysmon") {
    doc.text("event.module", "sysmon");
    dataset = "windows.sysmon_operational";
  } else if (e.channel == "Security" || e.provider == "Microsoft-Windows-Security-Auditing") {
    dataset = "system.security";
  } else if (e.channel == "System") {
    dataset = "system.system";
  } else if (e.channel == "Microsoft-Windows-PowerShell/Operational") {
    dataset = "windows.powershell_operational";
  }
  if (!dataset.empty()) {
    doc.text("event.dataset", dataset);
    doc.text("data_stream.dataset", dataset);
  }
  doc.text("winlog.channel", e.channel);
  doc.text("winlog.computer_name", e.computer);
  doc.text("winlog.event_id", e.event_id);
  doc.text("winlog.provider_name", e.provider);
  doc.text("winlog.provider_guid", e.provider_guid);
  number_or_text(doc, "winlog.record_id", e.record_id);
  number_or_text(doc, "winlog.version", e.version);
  doc.text("winlog.level", e.level);
  doc.text("winlog.task", e.task);
  doc.text("winlog.opcode", e.opcode);
  doc.text("winlog.keywords", e.keywords);
  number_or_text(doc, "winlog.process.pid", e.process_id);
  number_or_text(doc, "winlog.process.thread.id", e.thread_id);
  doc.text("winlog.user.identifier", e.user_id);
  if (e.keep_event_data) {
    std::size_t next_array = 0;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < e.event_data.size(); ++i) {
      bool is_array = next_array < e.arrays.size() && e.arrays[next_array].data_index == i;
      if (!is_array && repeats_earlier(e, i, seen)) continue;
      std::string_view key = doc.key("winlog.event_data", e.event_data[i].name);
      if (is_array) {
        doc.list(key, e.arrays[next_array++].items, /*keep_empty=*/true);
      } else {
        // Empty values are kept here (they are part of what the event says).
        doc.string_always(key, e.event_data[i].value);
      }
    }
  }
  for (const auto& u : e.user_data) doc.string_always(doc.key("winlog.user_data", u.name), u.value);
  doc.set_values_in_arena(false);  // the mapping makes new strings
  append_ecs_fields(doc, e.provider, e.event_id, e.event_data);
}

}  // namespace vigil
