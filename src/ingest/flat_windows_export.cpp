// FlatWindowsExport: a flat export line rebuilt as the document winlogbeat
// would have sent (the export's members first, then the mapping's).
#include "ingest/flat_windows_export.h"

#include <algorithm>
#include <span>

#include "core/document.h"
#include "core/timestamp.h"

namespace vigil {
namespace {

// A flat export member named like a top-level ECS object the mapping adds
// (NXLog's "host": the collector's name, next to ECS host.name) would make
// the document hold that key twice. Such members move under "export" (so
// "host" becomes export.host) and `out` gets the document's members without
// its closing brace. False, `out` untouched, when nothing collides.
bool rebuild_without_collisions(simdjson::dom::object obj, std::span<const DocMember> added, std::string_view line,
                                std::string& out) {
  thread_local std::vector<std::string_view> tops;  // the added top-level keys, each once
  tops.clear();
  for (const DocMember& m : added) {
    std::string_view top = m.key.substr(0, m.key.find('.'));
    if (std::find(tops.begin(), tops.end(), top) == tops.end()) tops.push_back(top);
  }
  auto collides = [&](std::string_view key) { return std::find(tops.begin(), tops.end(), key) != tops.end(); };
  bool any = false;
  for (auto field : obj) any = any || collides(field.key);
  if (!any) return false;
  // The members are copied from the line as they are (no re-serialising):
  // simdjson has just parsed it, so it is one valid JSON object.
  std::string moved;
  out = "{";
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::size_t i = line.find('{') + 1;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size() || line[i] != '"') break;  // '}': the end
    const std::size_t member = i;
    std::size_t j = i + 1;
    while (j < line.size() && line[j] != '"') j += line[j] == '\\' ? 2 : 1;
    const std::string_view key = line.substr(i + 1, j - i - 1);
    i = line.find(':', j + 1) + 1;
    int depth = 0;
    bool in_string = false;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (in_string) {
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) break;
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    std::size_t end = i;
    while (end > member && is_space(line[end - 1])) --end;
    std::string& to = collides(key) ? moved : out;
    if (to.size() > (&to == &out ? 1u : 0u)) to.push_back(',');
    to.append(line.substr(member, end - member));
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (out.size() > 1) out.push_back(',');
  out += "\"export\":{" + moved + "}";
  return true;
}

// A time written without its zone ("2020-10-19 12:28:31.089"), read as if
// it were UTC; nothing for any other text.
std::optional<TimestampNs> zoneless_time(std::string_view text) {
  if (text.size() < 19 || text.size() > 40 || (text[10] != ' ' && text[10] != 'T')) return std::nullopt;
  const std::string_view rest = text.substr(19);
  if (rest.find_first_of("Zz+-") != std::string_view::npos) return std::nullopt;
  std::string iso(text);
  iso[10] = 'T';
  iso += 'Z';
  return parse_iso8601(iso);
}

constexpr std::int64_t kQuarterHour = std::int64_t{15} * 60 * 1'000'000'000;
}  // namespace

void FlatWindowsExport::learn_local_times(std::string_view head) {
  local_offsets_.clear();
  head = head.substr(0, std::min(head.size(), kLocalTimeScan));
  std::size_t tried = 0;
  for (std::size_t at = head.find("\"UtcTime\""); at != std::string_view::npos && tried < 4096;
       at = head.find("\"UtcTime\"", at + 1)) {
    const std::size_t newline = head.rfind('\n', at);
    const std::size_t begin = newline == std::string_view::npos ? 0 : newline + 1;
    const std::size_t end = head.find('\n', at);
    if (end == std::string_view::npos) break;  // a line cut at the end of what was read
    const std::string_view line = head.substr(begin, end - begin);
    at = end;
    if (line.find("\"TimeCreated\"") == std::string_view::npos) continue;
    ++tried;
    simdjson::dom::element doc;
    padded_.assign(line);
    if (parser_.parse(padded_).get(doc)) continue;
    std::string_view host, local, utc;
    if (doc["Hostname"].get_string().get(host) || doc["TimeCreated"].get_string().get(local) ||
        doc["UtcTime"].get_string().get(utc) || local_offsets_.contains(host)) {
      continue;
    }
    const auto local_ns = zoneless_time(local);
    const auto utc_ns = zoneless_time(utc);
    if (!local_ns || !utc_ns) continue;
    // An event is logged a moment after Sysmon stamps it: the offset is the
    // difference rounded to a quarter hour (zones are), within 14 hours.
    std::int64_t diff = 0;
    if (__builtin_sub_overflow(*local_ns, *utc_ns, &diff)) continue;  // centuries apart: no zone
    if (diff < -15 * 4 * kQuarterHour || diff > 15 * 4 * kQuarterHour) continue;  // no zone is that far
    const std::int64_t offset = floor_div(diff + kQuarterHour / 2, kQuarterHour) * kQuarterHour;
    if (offset < -14 * 4 * kQuarterHour || offset > 14 * 4 * kQuarterHour) continue;
    if (diff - offset > kQuarterHour / 3 || offset - diff > kQuarterHour / 3) continue;  // 5 minutes apart at most
    local_offsets_.emplace(std::string(host), offset);
  }
}

bool FlatWindowsExport::looks_flat(std::string_view line) {
  if (line.find("\"winlog\"") != std::string_view::npos) return false;
  bool id = line.find("\"EventID\"") != std::string_view::npos || line.find("\"EventId\"") != std::string_view::npos;
  return id && (line.find("\"SourceName\"") != std::string_view::npos ||
                line.find("\"UtcTime\"") != std::string_view::npos);
}

std::optional<std::string> FlatWindowsExport::normalize(std::string_view line) {
  if (!looks_flat(line)) return std::nullopt;
  simdjson::dom::element doc;
  padded_.assign(line);
  if (parser_.parse(padded_).get(doc)) return std::nullopt;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return std::nullopt;
  WindowsEvent& e = event_;
  e.clear();
  e.keep_event_data = false;  // the export's fields stay where they are, at the top level
  values_.clear();
  for (auto field : obj) {
    std::string_view s;
    std::int64_t i;
    if (!field.value.get_string().get(s)) {
      values_.emplace_back(s);
    } else if (!field.value.get_int64().get(i)) {
      values_.push_back(std::to_string(i));
    } else {
      continue;
    }
    e.event_data.push_back({field.key, {}});
  }
  std::string_view utc_time, time_created;
  bool has_timestamp = false;
  for (std::size_t k = 0; k < e.event_data.size(); ++k) {
    auto& d = e.event_data[k];
    d.value = values_[k];
    if (d.name == "SourceName") e.provider = d.value;
    else if (d.name == "EventID" || d.name == "EventId") e.event_id = d.value;
    else if (d.name == "Channel") e.channel = d.value;
    else if (d.name == "Hostname") e.computer = d.value;
    else if (d.name == "UtcTime") utc_time = d.value;
    else if (d.name == "TimeCreated") time_created = d.value;
    else if (d.name == "@timestamp") has_timestamp = true;
  }
  // Raw Sysmon EventData (every Sysmon event has UtcTime, in UTC): the
  // provider is Sysmon, the time is UtcTime.
  if (e.provider.empty() && !utc_time.empty()) e.provider = "Microsoft-Windows-Sysmon";
  if (!has_timestamp && !utc_time.empty()) {
    utc_text_.assign(utc_time);
    if (utc_text_.size() > 10 && utc_text_[10] == ' ') utc_text_[10] = 'T';
    utc_text_ += 'Z';
    e.time_created = utc_text_;
  } else if (!has_timestamp && !time_created.empty()) {
    // A TimeCreated with its zone is the time; a local one without it is put
    // in UTC by its host's offset (else the event has no time).
    std::optional<TimestampNs> utc;
    if (const auto local = zoneless_time(time_created)) {
      std::int64_t in_utc = 0;
      if (const auto offset = local_offsets_.find(e.computer);
          offset != local_offsets_.end() && !__builtin_sub_overflow(*local, offset->second, &in_utc)) {
        utc = in_utc;
      }
    } else {
      utc = parse_iso8601(time_created);
    }
    if (utc) {
      utc_text_ = format_timestamp(*utc);
      e.time_created = utc_text_;
    }
  }
  if (e.provider.empty() || e.event_id.empty()) return std::nullopt;
  arena_.reset();
  DocBuilder builder(arena_);
  build_windows_document(e, builder);
  // The export's own @timestamp (if any) wins over nothing: the flat shape has no SystemTime.
  std::string out;
  if (!rebuild_without_collisions(obj, builder.members(), line, out)) out.assign(line.substr(0, line.find_last_of('}')));
  append_document_members(out, builder.members());
  out += "}";
  return out;
}

}  // namespace vigil
