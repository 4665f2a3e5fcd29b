// Robustness: random bytes, mutations and truncations of real inputs into
// the EQL front end and the JSON reader. Nothing may crash, hang or read out
// of bounds (this suite also runs under ASan/UBSan: see README, "Sanitizers").
// Seeds are fixed so failures reproduce.
#include <gtest/gtest.h>

#include "coverage/coverage.h"
#include "coverage/sysmon_config.h"
#include "detect/rule_set.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "eql/compiler.h"
#include "ingest/event_reader.h"
#include "ingest/event_xml.h"
#include "report/attack_catalog.h"
#include "report/html_report.h"
#include "report/report_data.h"
#include "rules/exceptions.h"
#include "rules/kql.h"
#include "rules/rule_loader.h"

using namespace vigil;

namespace {

const char* const kQueries[] = {
    R"(registry where registry.path : ("HKLM\\SYSTEM\\ControlSet*\\Services\\*\\ServiceDLL", "HKLM\\SYSTEM\\ControlSet*\\Services\\*\\ImagePath") and not registry.data.strings : ("?:\\windows\\system32\\Drivers\\*.sys") and not (process.name : "procexp??.exe" and registry.data.strings : "?:\\*\\procexp*.sys"))",
    R"(process where process.name : "regsvr32.exe" and process.args : ("/i:*", "-i:*") and process.command_line regex~ """.*(http|ftp)s?://.*""")",
    R"(network where cidrMatch(destination.ip, "10.0.0.0/8") and destination.port >= 1024 and not process.name in~ ("svchost.exe"))",
    R"(any where substring(a, length(a) - (length(b) + 1)) : "x" and between~(c, "a", "b", true) != null | head 3)",
    R"(file where `weird field`.x == """raw \ string""" and ?opt == null and -(1 + 2) * 3 % 4 / 5 < 6.5e1)",
};

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string mutate(std::mt19937_64& rng, std::string s) {
  static const char alphabet[] = "\"'`\\()[]{}:,.|~!=<>*?+-/%0123456789 \n\tabcnotinwhere\x00\xff";
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    std::size_t at = rng() % s.size();
    switch (rng() % 3) {
      case 0: s[at] = alphabet[rng() % (sizeof(alphabet) - 1)]; break;
      case 1: s.erase(at, 1 + rng() % 3); break;
      default: s.insert(at, 1, alphabet[rng() % (sizeof(alphabet) - 1)]); break;
    }
  }
  return s;
}

void compile_and_run(const std::string& text) {
  FieldRegistry fields;
  auto compiled = eql::compile_query(text, fields);
  if (!compiled) {
    // Errors must point inside (or just past) the text.
    EXPECT_LE(compiled.error().pos.offset, text.size());
    (void)format_error(compiled.error(), "<fuzz>", text);
    return;
  }
  EventReader reader(fields);
  Arena arena;
  Event event;
  std::string reason;
  const char* doc = R"({"a":"abc","b":"b","c":"xaYbz","registry":{"path":"HKLM\\SYSTEM\\ControlSet001\\Services\\x\\ServiceDLL"},"process":{"name":"regsvr32.exe","args":["/i:http://x"]}})";
  if (reader.decode_one(doc, event, arena, reason)) {
    eql::EvalContext ctx;
    (void)eql::matches(*compiled->program, event, ctx);
  }
}

}  // namespace

TEST(Robustness, EqlFrontEndSurvivesRandomBytes) {
  std::mt19937_64 rng(0x5eed);
  for (int i = 0; i < 3000; ++i) compile_and_run(random_bytes(rng, rng() % 200));
}

TEST(Robustness, EqlFrontEndSurvivesMutatedQueries) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    const std::string base = kQueries[rng() % std::size(kQueries)];
    compile_and_run(mutate(rng, base));
  }
}

TEST(Robustness, EqlFrontEndSurvivesEveryTruncation) {
  for (const char* q : kQueries) {
    std::string text = q;
    for (std::size_t n = 0; n <= text.size(); ++n) compile_and_run(text.substr(0, n));
  }
}

TEST(Robustness, JsonDecoderSurvivesMutationsAndTruncations) {
  FieldRegistry fields;
  for (const char* f : {"process.name", "process.args", "a", "b.c", "@timestamp", "source.ip"}) fields.intern(f);
  EventReader reader(fields);
  const std::string base =
      R"({"@timestamp":"2022-01-01T00:00:00Z","process":{"name":"a\u00e9\"b","args":["x",1,2.5,true,null,{"y":[[]]}]},"a":[{"b":{"c":1}}],"b.c":"\\\\","source":{"ip":"::1"}})";
  std::mt19937_64 rng(7);
  Arena arena;
  int decoded = 0;
  for (std::size_t n = 0; n <= base.size(); ++n) {
    Event e;
    std::string reason;
    decoded += reader.decode_one(base.substr(0, n), e, arena, reason);
  }
  EXPECT_EQ(decoded, 1);  // only the complete document decodes
  for (int i = 0; i < 20000; ++i) {
    Event e;
    std::string reason;
    (void)reader.decode_one(mutate(rng, base), e, arena, reason);
    (void)reader.decode_one(random_bytes(rng, rng() % 64), e, arena, reason);
    if (i % 1000 == 0) arena.reset();
  }
}

TEST(Robustness, DeeplyNestedJsonIsRejectedNotOverflowed) {
  FieldRegistry fields;
  fields.intern("a.a.a.a");
  EventReader reader(fields);
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 5000; ++i) deep += "}";
  Arena arena;
  Event e;
  std::string reason;
  // Beyond the projected field the nesting is skipped unparsed: no recursion, no crash.
  (void)reader.decode_one(deep, e, arena, reason);
  std::string arrays = "{\"a\":" + std::string(3000, '[') + std::string(3000, ']') + "}";
  fields.intern("a");
  EventReader reader2(fields);
  EXPECT_FALSE(reader2.decode_one(arrays, e, arena, reason));
}

TEST(Robustness, ReaderSurvivesCorruptFiles) {
  std::mt19937_64 rng(99);
  std::string good;
  for (int i = 0; i < 300; ++i) good += R"({"process":{"name":"p)" + std::to_string(i) + R"(.exe","args":["a","b"]},"n":)" + std::to_string(i) + "}\n";
  FieldRegistry fields;
  fields.intern("process.name");
  fields.intern("process.args");
  const std::string path = "/tmp/vigil_robustness.ndjson";
  for (int round = 0; round < 50; ++round) {
    std::string bad = good;
    for (int k = 0; k < 20; ++k) bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    bad.resize(bad.size() / 2 + rng() % (bad.size() / 2));
    auto lines = static_cast<std::uint64_t>(std::count(bad.begin(), bad.end(), '\n'));
    std::ofstream(path, std::ios::binary) << bad;
    EventReader reader(fields);
    ReadStats stats;
    std::uint64_t seen = 0;
    reader.read(path, 0, [&](EventBatch& b) {
      seen += b.events.size();
      return true;
    }, stats);
    EXPECT_EQ(seen, stats.events);
    // Corruption costs the damaged lines (a flipped newline merges two), never the rest of the file.
    EXPECT_GE(seen + stats.skipped + 20, lines);
    EXPECT_GE(seen + 40, lines);
  }
  std::remove(path.c_str());
}

namespace {

std::string read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Decodes `bytes` as a file; returns the number of events and fills stats.
std::uint64_t decode_evtx_bytes(const std::string& bytes, ReadStats& stats) {
  const std::string path = "/tmp/vigil_robustness.evtx";
  std::ofstream(path, std::ios::binary) << bytes;
  FieldRegistry fields;
  fields.intern("winlog.event_id");
  fields.intern("winlog.event_data.CommandLine");
  EventReader reader(fields);
  std::uint64_t n = 0;
  reader.read(path, 0, [&](EventBatch& b) {
    n += b.events.size();
    return true;
  }, stats);
  std::remove(path.c_str());
  return n;
}

const std::string kEvtxSample = std::string(VIGIL_SHARED_DIR) + "/data/evtx-edge-cases/sysmon.evtx";

}  // namespace

TEST(Robustness, EvtxTruncatedAtEveryChunkBoundaryKeepsTheIntactChunks) {
  std::string good = read_binary(kEvtxSample);
  ASSERT_GT(good.size(), 4096u + 3 * 65536u) << kEvtxSample;
  ReadStats full_stats;
  std::uint64_t full = decode_evtx_bytes(good, full_stats);
  ASSERT_GT(full, 300u);
  std::uint64_t previous = 0;
  for (std::size_t cut = 4096; cut <= good.size(); cut += 65536) {
    ReadStats stats;
    std::uint64_t n = decode_evtx_bytes(good.substr(0, cut), stats);
    EXPECT_GE(n, previous) << "cut at " << cut;  // every whole chunk still comes out
    previous = n;
    // Cut inside the next chunk: the same records, and the damage is reported.
    if (cut + 30000 < good.size()) {
      ReadStats partial;
      EXPECT_EQ(decode_evtx_bytes(good.substr(0, cut + 30000), partial), n);
      EXPECT_GE(partial.skipped, 1u);
    }
  }
  EXPECT_EQ(previous, full);
}

TEST(Robustness, EvtxSurvivesFlippedBytesAndBadOffsets) {
  std::string good = read_binary(kEvtxSample);
  ASSERT_FALSE(good.empty());
  ReadStats clean;
  std::uint64_t full = decode_evtx_bytes(good, clean);
  std::mt19937_64 rng(2026);
  for (int round = 0; round < 30; ++round) {
    std::string bad = good;
    // Flip bytes in record data, and point template/name offsets elsewhere.
    for (int k = 0; k < 40; ++k) bad[4096 + rng() % (bad.size() - 4096)] = static_cast<char>(rng() & 0xff);
    ReadStats stats;
    std::uint64_t n = decode_evtx_bytes(bad, stats);
    EXPECT_LE(n, full + 50);  // damage can cost records, never invent many
  }
}

// A name offset of 0xFFFFFFFF in a record's template (found by
// fuzz/fuzz_evtx): offset + 8 wrapped around in 32 bits, the bounds check
// passed and the name was read 4 GiB past the chunk. Now the record fails
// alone, reported, and the rest of the file still decodes.
TEST(Robustness, EvtxNameOffsetNear4GiBIsReportedNotRead) {
  std::string bytes = read_binary(kEvtxSample);
  ASSERT_GT(bytes.size(), 4096u + 65536u);
  ReadStats clean;
  const std::uint64_t full = decode_evtx_bytes(bytes, clean);
  bytes.replace(4853, 4, "\xff\xff\xff\xff");  // the first record's template: an element's name offset
  ReadStats stats;
  const std::uint64_t n = decode_evtx_bytes(bytes, stats);
  EXPECT_LT(n, full);
  EXPECT_GT(n, full / 2);
  EXPECT_GE(stats.skipped, 1u);
}

// ---- the parsers added with Windows XML input and detection rules ----

TEST(Robustness, EventXmlSurvivesMutationsAndTruncations) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/examples/sysmon-events.xml", std::ios::binary);
  std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(xml.size(), 1000u);
  std::mt19937_64 rng(7);
  std::size_t full = 0;
  EventXmlCallbacks count;
  count.on_event = [&](const WindowsEvent&, std::uint64_t, std::uint64_t) { return ++full, true; };
  count.on_error = [](std::uint64_t, std::uint64_t, std::string) {};
  parse_event_xml(xml, count);
  ASSERT_EQ(full, 19u);
  for (int round = 0; round < 300; ++round) {
    std::string bad = round % 2 ? xml.substr(0, rng() % xml.size()) : mutate(rng, xml);
    std::size_t events = 0, errors = 0;
    EventXmlCallbacks cb;
    cb.on_event = [&](const WindowsEvent& e, std::uint64_t, std::uint64_t) {
      (void)e;
      ++events;
      return true;
    };
    cb.on_error = [&](std::uint64_t, std::uint64_t offset, std::string) {
      EXPECT_LE(offset, bad.size());
      ++errors;
    };
    parse_event_xml(bad, cb);
    // A damaged event costs itself (or, cut, the events after the cut), never the others.
    if (round % 2 == 0) {
      EXPECT_GE(events + errors + 2, full);
    }
  }
}

TEST(Robustness, KqlTranslatorSurvivesRandomInput) {
  std::mt19937_64 rng(11);
  const std::string seed =
      R"(event.category:process and process.name:(cmd.exe or "power shell.exe" or pw*) and not user.id:"S-1-5-18" and )"
      R"(powershell.file.script_block_text:("Get-Thing" and (a or b)) and process.pid >= 10)";
  for (int round = 0; round < 3000; ++round) {
    std::string text = round % 3 == 0 ? random_bytes(rng, rng() % 64) : round % 3 == 1 ? mutate(rng, seed)
                                                                                      : seed.substr(0, rng() % seed.size());
    auto eql = kql_to_eql(text);
    if (!eql) {
      EXPECT_LE(eql.error().pos.offset, text.size());
      continue;
    }
    compile_and_run(*eql);  // a translation either compiles or is rejected with a position
  }
}

TEST(Robustness, RuleLoaderSurvivesMutatedRules) {
  // One plain rule and one with [[vigil.rarity]] tables.
  for (const char* name : {"persistence_services_registry_all_paths.toml", "command_and_control_proxy_execution_network.toml"}) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/rules/windows/" + name, std::ios::binary);
  std::string rule((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(parse_rule_toml(rule, "r.toml"));
  std::mt19937_64 rng(13);
  for (int round = 0; round < 1000; ++round) {
    std::string bad = round % 2 ? rule.substr(0, rng() % rule.size()) : mutate(rng, rule);
    auto parsed = parse_rule_toml(bad, "r.toml");
    if (!parsed) {
      (void)format_error(parsed.error(), "r.toml", bad);
      continue;
    }
    compile_and_run(parsed->query);
  }
  }
}

// toml++ 3.3 (Debian 12) reaches __builtin_unreachable() when it asks
// whether some non-ASCII code points are whitespace (marzer/tomlplusplus#190,
// #295; found here by fuzz/fuzz_rule). What that compiles to decides what a
// user sees: these inputs must give an ordinary rule error with a position.
TEST(Robustness, RuleLoaderReportsTomlPlusPlusUnreachableInputs) {
  struct Case {
    std::string text;
    const char* message;  // part of the error
    std::size_t line;
  };
  const Case cases[] = {
      {"\xcc\xaa", "saw", 1},                                            // #295: U+032A where a key may start
      {"[rule]\nname = \"x\"\n[[rule.threat.technique\xce\x8cubtechnique]]\n", "expected ']'", 3},  // U+038C in a header
      {"s = \"\"\"\\\n\xc2\xa7\"\"\"\n", "no [rule] table", 1},  // #190: U+00A7 after a line-ending backslash
      {"[rule]\nname = \"x\" \xe2\xb4\x80\n", "saw", 2},            // U+2D00 after a value
  };
  for (const Case& c : cases) {
    auto parsed = parse_rule_toml(c.text, "r.toml");
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_NE(parsed.error().message.find(c.message), std::string::npos) << parsed.error().message;
    EXPECT_EQ(parsed.error().pos.line, c.line) << parsed.error().message;
    EXPECT_NE(format_error(parsed.error(), "r.toml", c.text).find("r.toml:"), std::string::npos);
  }
}

TEST(Robustness, SysmonConfigSurvivesMutationsAndTruncations) {
  auto set = compile_rules({std::string(VIGIL_SOURCE_DIR) + "/rules/windows"});
  ASSERT_EQ(set->compiled.size(), 10u);
  auto needs = rule_needs(*set);
  std::ifstream in(std::string(VIGIL_SHARED_DIR) + "/sysmon-configs/swiftonsecurity-sysmonconfig-export.xml",
                   std::ios::binary);
  std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(xml.empty());
  const std::string path = "/tmp/vigil_robustness_sysmon.xml";
  std::mt19937_64 rng(19);
  for (int round = 0; round < 200; ++round) {
    std::string bad = round % 2 ? xml.substr(0, rng() % xml.size()) : mutate(rng, xml);
    std::ofstream(path, std::ios::binary) << bad;
    auto config = SysmonConfig::load(path);
    if (!config) continue;
    for (const RuleNeeds& n : needs) (void)judge_sysmon_config(*set, n, *config);
  }
  std::remove(path.c_str());
}

TEST(Robustness, ExceptionListsRejectBadItemsWithTheirLine) {
  FieldRegistry fields;
  std::mt19937_64 rng(17);
  const std::string good =
      R"({"list_id":"l","item_id":"i","type":"simple","entries":[{"field":"process.name","operator":"included","type":"match_any","value":["a","b"]},{"field":"host.name","operator":"excluded","type":"wildcard","value":"H*"}]})";
  const std::string path = "/tmp/vigil_robustness_exceptions.ndjson";
  for (int round = 0; round < 500; ++round) {
    std::string text = good + "\n" + mutate(rng, good) + "\n" + good.substr(0, rng() % good.size()) + "\n";
    std::ofstream(path, std::ios::binary) << text;
    ExceptionLists lists;
    auto loaded = lists.load(path, fields);
    if (!loaded) {
      EXPECT_NE(loaded.error().message.find(path + ":"), std::string::npos) << loaded.error().message;
    }
  }
  std::remove(path.c_str());
}

// Alert documents as hostile input to the report: truncated at every byte and
// mutated, with wrong types where strings are expected; the model stays valid
// JSON and the page keeps its two script elements.
TEST(Robustness, ReportDataSurvivesMutatedAlertDocuments) {
  const std::string base =
      R"({"@timestamp":"2021-03-05T10:05:00Z","kibana.alert.uuid":"a1","kibana.alert.original_time":"2021-03-05T10:01:02Z",)"
      R"("kibana.alert.severity":"high","kibana.alert.reason":"</script>","kibana.alert.rule.rule_id":"r",)"
      R"("kibana.alert.rule.name":"R","kibana.alert.rule.threat":[{"tactic":{"id":"TA0002"},"technique":[{"id":"T1059",)"
      R"("subtechnique":[{"id":"T1059.001"}]}]}],"kibana.alert.group.id":"g","kibana.alert.group.index":1,)"
      R"("host":{"name":"h\u2028"},"process":{"name":"x","pid":1,"parent":{"name":"p"}},"user":{"name":"u"},)"
      R"("vigil.context":{"process_ancestry":[{"name":"a","pid":"2"}],"modules":[{"path":"m"}],)"
      R"("file_provenance":[{"path":"f"}],"network":[{"destination":"d","port":1}]},)"
      R"("vigil.sources":[{"path":"s","line":3},{"path":"t","record_id":4,"offset":5}]})";
  ReportData data(AttackCatalog::enterprise());
  for (std::size_t n = 0; n <= base.size(); ++n) (void)data.add_alert(base.substr(0, n));
  std::mt19937_64 rng(11);
  simdjson::dom::parser parser;
  for (int i = 0; i < 20000; ++i) {
    std::string doc = mutate(rng, base);
    // A fresh id now and then, so mutated documents are kept, not deduplicated.
    if (i % 3 == 0) doc.replace(doc.find("\"a1\"") == std::string::npos ? 0 : doc.find("\"a1\""), 4, "\"" + std::to_string(i) + "\"");
    (void)data.add_alert(doc);
    (void)data.add_alert(random_bytes(rng, rng() % 64));
    if (i % 5000 == 0) {
      const std::string json = data.to_json("now");
      simdjson::dom::element root;
      EXPECT_FALSE(parser.parse(json).get(root)) << "the model is not JSON after " << i;
      const std::string page = render_html_report(json, "t");
      std::size_t closes = 0;
      for (std::size_t at = page.find("</script"); at != std::string::npos; at = page.find("</script", at + 1)) ++closes;
      EXPECT_EQ(closes, 2u);
    }
  }
  EXPECT_GT(data.alert_count(), 1000u);
}
