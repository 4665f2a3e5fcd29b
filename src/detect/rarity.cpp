// Rarity specs' terms and the bounded tracker.
#include "detect/rarity.h"

#include <fmt/format.h>

#include <algorithm>

namespace vigil {
namespace {

constexpr std::size_t kMaxCombinations = 100;

// Appends the text of each value of `v` (arrays expand; nulls are skipped).
void texts_of(const Value& v, std::vector<std::string>& out) {
  auto one = [&](const Value& x) {
    switch (x.kind()) {
      case ValueKind::String:
      case ValueKind::Ip: out.emplace_back(x.as_string()); break;
      case ValueKind::Int: out.push_back(std::to_string(x.as_int())); break;
      case ValueKind::Float: out.push_back(fmt::format("{}", x.as_double())); break;
      case ValueKind::Bool: out.emplace_back(x.as_bool() ? "true" : "false"); break;
      default: break;
    }
  };
  if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) one(x);
  } else {
    one(v);
  }
}

}  // namespace

std::string_view scope_field(RaritySpec::Scope scope) {
  switch (scope) {
    case RaritySpec::Scope::Host: return "host.name";
    case RaritySpec::Scope::User: return "user.name";
    case RaritySpec::Scope::Fleet: return "";
  }
  return "";
}

std::string_view scope_name(RaritySpec::Scope scope) {
  switch (scope) {
    case RaritySpec::Scope::Host: return "host";
    case RaritySpec::Scope::User: return "user";
    case RaritySpec::Scope::Fleet: return "fleet";
  }
  return "";
}

bool terms_of(const RaritySpec& spec, const Event& event, FieldId entity_field, eql::EvalContext& context,
              SpecTerms& out) {
  for (FieldId f : spec.fields) {
    if (event.get(f).is_null()) return false;
  }
  if (spec.population && !eql::matches(*spec.population, event, context)) return false;
  return terms_of_member(spec, event, entity_field, out);
}

bool terms_of_member(const RaritySpec& spec, const Event& event, FieldId entity_field, SpecTerms& out) {
  out.terms.assign(1, std::string());
  std::vector<std::string> values;
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    values.clear();
    texts_of(event.get(spec.fields[i]), values);
    if (values.empty()) return false;
    std::vector<std::string> next;
    for (const auto& prefix : out.terms) {
      for (const auto& v : values) {
        if (next.size() == kMaxCombinations) break;
        next.push_back(i == 0 ? v : prefix + '\x1f' + v);
      }
    }
    out.terms = std::move(next);
  }
  out.entity.clear();
  if (spec.scope != RaritySpec::Scope::Fleet) {
    const Value& e = event.get(entity_field);
    if (e.is_text()) out.entity.assign(e.as_string());
  }
  return true;
}

RarityTracker::RarityTracker(const std::vector<RaritySpec>& specs, const FieldRegistry& fields,
                             BaselineStore* baseline, std::size_t max_terms)
    : specs_(specs), baseline_(baseline), max_terms_(std::max<std::size_t>(max_terms, 16)) {
  for (const RaritySpec& s : specs_) {
    std::string_view name = scope_field(s.scope);
    auto id = name.empty() ? std::nullopt : fields.find(name);
    entity_fields_.push_back(id.value_or(FieldId(~0u)));
    baseline_specs_.push_back(baseline_ ? baseline_->find_spec(s.id) : std::nullopt);
  }
}

const std::string& RarityTracker::key(std::size_t spec, std::string_view entity, std::string_view term) {
  key_.clear();
  key_.push_back(static_cast<char>(spec & 0xff));
  key_.push_back(static_cast<char>((spec >> 8) & 0xff));
  key_.append(entity);
  key_.push_back('\x1e');
  key_.append(term);
  return key_;
}

RarityTracker::Entry& RarityTracker::entry(std::size_t spec, std::string_view entity, std::string_view term,
                                           TimestampNs t) {
  auto [it, inserted] = table_.try_emplace(key(spec, entity, term));
  Entry& e = it->second;
  if (inserted) {
    e.first = e.last = t;
    // The baseline is asked once per term and run, then counted in memory.
    if (baseline_specs_[spec]) {
      if (auto known = baseline_->lookup(*baseline_specs_[spec], entity, term)) e.baseline = known->count;
    }
  }
  return e;
}

std::optional<std::int64_t> RarityTracker::seen_before(std::size_t spec, const Event& event) {
  if (!terms_of(specs_[spec], event, entity_fields_[spec], context_, scratch_)) return std::nullopt;
  std::int64_t least = INT64_MAX;
  for (const auto& term : scratch_.terms) {
    const Entry& e = entry(spec, scratch_.entity, term, event.timestamp_ns);
    least = std::min(least, e.count + e.baseline);
  }
  return least;
}

void RarityTracker::observe(const Event& event, bool with_new_terms) {
  for (std::size_t s = 0; s < specs_.size(); ++s) {
    if (specs_[s].new_terms && !with_new_terms) continue;
    if (!terms_of(specs_[s], event, entity_fields_[s], context_, scratch_)) continue;
    for (const auto& term : scratch_.terms) {
      Entry& e = entry(s, scratch_.entity, term, event.timestamp_ns);
      ++e.count;
      e.first = std::min(e.first, event.timestamp_ns);
      e.last = std::max(e.last, event.timestamp_ns);
    }
  }
  if (table_.size() > max_terms_) make_room();
}

void RarityTracker::make_room() {
  std::vector<std::string> victims = least_recent_tenth(table_, [](const Entry& e) { return e.last; });
  for (const auto& k : victims) table_.erase(k);
  evicted_ += victims.size();
}

void RarityTracker::save(Encoder& out) const {
  out(table_);
  out(evicted_);
}

void RarityTracker::load(Decoder& in) {
  in(table_);
  in(evicted_);
}

}  // namespace vigil
