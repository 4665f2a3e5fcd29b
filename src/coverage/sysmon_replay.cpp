// Replaying recorded Sysmon events through two configurations' filters.
#include "coverage/sysmon_replay.h"

#include <charconv>

#include "core/timestamp.h"

namespace vigil {
namespace {

std::optional<int> event_id_of(const Value& code) {
  if (code.kind() == ValueKind::Int) return static_cast<int>(code.as_int());
  if (!code.is_text()) return std::nullopt;
  std::string_view text = code.as_string();
  int id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

// A value as Sysmon's filters see it: text; numbers in decimal; the first of a list.
std::optional<std::string> filter_text(const Value& v) {
  switch (v.kind()) {
    case ValueKind::String:
    case ValueKind::Ip: return std::string(v.as_string());
    case ValueKind::Int: return std::to_string(v.as_int());
    case ValueKind::Bool: return std::string(v.as_bool() ? "true" : "false");
    case ValueKind::Array: {
      std::optional<std::string> out;
      for_each_text(v, [&](std::string_view s) {
        if (!out) out = std::string(s);
      });
      return out;
    }
    default: return std::nullopt;
  }
}

}  // namespace

SysmonReplay::SysmonReplay(FieldRegistry& fields, const SysmonConfig& original, const SysmonConfig& patched,
                           const SysmonSuggestions& suggestions)
    : original_(original), patched_(patched) {
  std::set<std::string> names = original.condition_fields();
  names.merge(patched.condition_fields());
  for (const auto& [a, rules] : suggestions.additions) {
    additions_.push_back(a);
    if (!a.field.empty()) names.insert(a.field);
  }
  for (const std::string& n : names) {
    fields_.emplace(n, std::pair{fields.intern("winlog.event_data." + n), fields.intern(n)});
  }
  provider_ = fields.intern("event.provider");
  code_ = fields.intern("event.code");
  host_ = fields.intern("host.name");
  added_by_.assign(additions_.size(), 0);
}

void SysmonReplay::observe(const Event& e) {
  const Value& provider = e.get(provider_);
  if (!provider.is_text() || provider.as_string() != "Microsoft-Windows-Sysmon") return;
  const std::optional<int> id = event_id_of(e.get(code_));
  if (!id || sysmon_tag(*id).empty()) return;
  const SysmonConfig::ValueOf value_of = [&](std::string_view name) -> std::optional<std::string> {
    auto it = fields_.find(name);
    if (it == fields_.end()) return std::nullopt;
    const Value& raw = e.get(it->second.first);
    return filter_text(raw.is_null() ? e.get(it->second.second) : raw);
  };
  const bool before = original_.collects(*id, value_of);
  const bool after = patched_.collects(*id, value_of);
  ++totals_.sysmon_events;
  totals_.original += before;
  totals_.patched += after;
  IdCounts& counts = by_id_[*id];
  ++counts.recorded;
  counts.original += before;
  counts.patched += after;
  if (after && !before) {
    ++totals_.added;
    for (std::size_t i = 0; i < additions_.size(); ++i) added_by_[i] += addition_holds(additions_[i], *id, value_of);
  }
  if (before && !after) ++totals_.lost;
  if (e.has_timestamp) {
    const Value& h = e.get(host_);
    hours_[{e.input_index, h.is_text() ? std::string(h.as_string()) : std::string()}].insert(
        floor_div(e.timestamp_ns, TimestampNs{3'600'000'000'000}));
  }
}

SysmonReplayTotals SysmonReplay::totals() const {
  SysmonReplayTotals out = totals_;
  out.recordings = hours_.size();
  for (const auto& [recording, hours] : hours_) out.host_days += static_cast<double>(hours.size()) / 24.0;
  return out;
}

}  // namespace vigil
