// AttackCatalog: parsing the compiled-in ATT&CK table.
#include "report/attack_catalog.h"

namespace vigil {

extern const char* const kEnterpriseAttackTable;

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = s.find(sep, begin);
    out.push_back(s.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  return out;
}

}  // namespace

AttackCatalog AttackCatalog::parse(std::string_view tsv) {
  AttackCatalog c;
  std::size_t begin = 0;
  while (begin < tsv.size()) {
    std::size_t end = tsv.find('\n', begin);
    if (end == std::string_view::npos) end = tsv.size();
    std::string_view line = tsv.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    if (line[0] == '#') {
      // The first comment names the release: "# MITRE ATT&CK® Enterprise v18.1 (...".
      const std::size_t v = line.find(" v");
      if (c.version_.empty() && v != std::string_view::npos) {
        const std::size_t stop = line.find(' ', v + 2);
        c.version_ = std::string(line.substr(v + 2, stop == std::string_view::npos ? stop : stop - v - 2));
      }
      continue;
    }
    auto cols = split(line, '\t');
    if (cols.size() < 4) continue;
    if (cols[0] == "tactic") {
      c.tactics_.push_back({std::string(cols[1]), std::string(cols[3]), std::string(cols[2])});
    } else if (cols[0] == "technique") {
      AttackTechnique t{std::string(cols[1]), std::string(cols[2]), {}, {}};
      for (std::string_view shortname : split(cols[3], ',')) {
        for (std::size_t i = 0; i < c.tactics_.size(); ++i) {
          if (c.tactics_[i].shortname == shortname) t.tactics.push_back(i);
        }
      }
      if (cols.size() > 4 && !cols[4].empty()) {
        for (std::string_view p : split(cols[4], ',')) t.platforms.emplace_back(p);
      }
      c.by_id_.emplace(t.id, c.techniques_.size());
      c.techniques_.push_back(std::move(t));
    }
  }
  return c;
}

const AttackCatalog& AttackCatalog::enterprise() {
  static const AttackCatalog catalog = parse(kEnterpriseAttackTable);
  return catalog;
}

const AttackTechnique* AttackCatalog::technique(std::string_view id) const {
  auto it = by_id_.find(std::string(id));
  return it == by_id_.end() ? nullptr : &techniques_[it->second];
}

const AttackTactic* AttackCatalog::tactic(std::string_view id_or_shortname) const {
  for (const AttackTactic& t : tactics_) {
    if (t.id == id_or_shortname || t.shortname == id_or_shortname) return &t;
  }
  return nullptr;
}

}  // namespace vigil
