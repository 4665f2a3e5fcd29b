// How fast one vectorscan literal scan goes with the number of literals,
// and what a cover of a few pieces (AdaptiveLiterals) saves, searched by
// vectorscan and in line (PieceScan): each line of
// an NDJSON file is scanned once per set, through vigil's own WildcardSet.
// Figures: BENCHMARKS.md ("Sigma rules", sessions 23 and 29).
//
// usage: literal_scan_bench FILE [MAX_MB]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "core/wildcard_set.h"

namespace {

struct Set {
  const char* name;
  std::vector<std::string> literals;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: literal_scan_bench FILE [MAX_MB]\n");
    return 2;
  }
  const std::size_t max_bytes = (argc > 2 ? std::stoul(argv[2]) : 600) << 20;
  std::ifstream in(argv[1], std::ios::binary);
  std::string data;
  data.resize(max_bytes);
  in.read(data.data(), static_cast<std::streamsize>(max_bytes));
  data.resize(static_cast<std::size_t>(in.gcount()));
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at < data.size();) {
    std::size_t end = data.find('\n', at);
    if (end == std::string::npos) end = data.size();
    lines.emplace_back(data.data() + at, end - at);
    at = end + 1;
  }
  // SigmaHQ's "Mimikatz Use" keywords (folded), their cover, and parts of it.
  const std::vector<std::string> mimikatz = {
      "dpapi::masterkey", "eo.oe.kiwi",        "event::clear",  "event::drop",          "gentilkiwi.com",
      "kerberos::golden", "kerberos::ptc",     "kerberos::ptt", "kerberos::tgt",        "kiwi legit printer",
      "lsadump::",        "mimidrv.sys",       "\\mimilib.dll", "misc::printnightmare", "misc::shadowcopies",
      "misc::skeleton",   "privilege::backup", "privilege::debug", "privilege::driver", "sekurlsa::"};
  std::vector<Set> sets = {{"the 20 keywords", mimikatz},
                           {"their cover", vigil::AdaptiveLiterals::cover_of(mimikatz)},
                           {"one piece", {"::"}},
                           {"first 8 keywords", {mimikatz.begin(), mimikatz.begin() + 8}}};
  vigil::WildcardScratch scratch;
  std::printf("%zu lines, %.0f MB\n%-20s %8s %9s %10s\n", lines.size(), data.size() / 1e6, "set", "literals", "GB/s",
              "lines hit");
  for (const Set& set : sets) {
    auto compiled = vigil::WildcardSet::compile_literals(set.literals);
    double best = 1e9;
    std::size_t hit = 0;
    for (int round = 0; round < 3; ++round) {
      hit = 0;
      const auto start = std::chrono::steady_clock::now();
      for (std::string_view line : lines) hit += compiled->matches_any(line, scratch);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::printf("%-20s %8zu %9.2f %10zu\n", set.name, set.literals.size(), data.size() / best / 1e9, hit);
  }
  // The cover searched in line (PieceScan, what AdaptiveLiterals uses) rather than by vectorscan.
  {
    const vigil::PieceScan pieces(vigil::AdaptiveLiterals::cover_of(mimikatz));
    double best = 1e9;
    std::size_t hit = 0;
    for (int round = 0; round < 3; ++round) {
      hit = 0;
      const auto start = std::chrono::steady_clock::now();
      for (std::string_view line : lines) hit += pieces.any_in(line);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::printf("%-20s %8zu %9.2f %10zu\n", "their cover, in line", vigil::AdaptiveLiterals::cover_of(mimikatz).size(),
                data.size() / best / 1e9, hit);
  }
  // The whole AdaptiveLiterals search (cover first, literals where a piece is), against the plain set.
  vigil::AdaptiveLiterals adaptive(mimikatz);
  std::vector<unsigned> out;
  for (std::string_view line : lines) adaptive.matching(line, scratch, out);  // compiles, tries the cover
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    out.clear();
    const auto start = std::chrono::steady_clock::now();
    for (std::string_view line : lines) adaptive.matching(line, scratch, out);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::printf("%-20s %8zu %9.2f %10zu  (cover %s)\n", "AdaptiveLiterals", mimikatz.size(), data.size() / best / 1e9,
              out.size(), adaptive.cover_in_use() ? "in use" : "dropped");
  return 0;
}
