// The HTML report's building blocks: SHA-256 for its CSP, the escaping that
// keeps log text inside its <script> data element, the interned data model,
// the ATT&CK catalog and the Navigator layer.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <string>

#include "core/sha256.h"
#include "core/text.h"
#include "report/attack_catalog.h"
#include "report/html_report.h"
#include "report/navigator_layer.h"
#include "report/report_data.h"

namespace vigil {
namespace {

std::string hex(const std::array<std::uint8_t, 32>& d) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

TEST(Sha256, MatchesTheFips180Examples) {
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // 56 bytes: the length no longer fits the first padding block.
  EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(sha256(std::string(1000000, 'a'))), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 64 bytes exactly: a whole block of data, then a padding block.
  EXPECT_EQ(hex(sha256(std::string(64, 'x'))), "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
}

TEST(HtmlReport, JsonInTheScriptElementCannotCloseItOrOpenAComment) {
  const std::string json = R"({"a":"</script><script>alert(1)</script><!-- & -->)"
                           "\xE2\x80\xA8"
                           R"("})";
  const std::string safe = escape_json_for_script(json);
  EXPECT_EQ(safe.find('<'), std::string::npos);
  EXPECT_EQ(safe.find('>'), std::string::npos);
  EXPECT_EQ(safe.find('&'), std::string::npos);
  EXPECT_EQ(safe.find("\xE2\x80\xA8"), std::string::npos);
  // The escapes mean the same text to a JSON parser.
  simdjson::dom::parser parser;
  std::string_view a;
  ASSERT_FALSE(parser.parse(safe)["a"].get_string().get(a));
  EXPECT_EQ(a, "</script><script>alert(1)</script><!-- & -->\xE2\x80\xA8");
}

TEST(HtmlReport, TheDataIsEmbeddedOnceAsGzipInBase64) {
  const std::string json = R"({"alerts":[],"s":["</script>"]})";
  const std::string page = render_html_report(json, "t");
  const std::string open = "data-encoding=\"gzip+base64\">";
  const std::size_t at = page.find(open);
  ASSERT_NE(at, std::string::npos);
  const std::size_t begin = at + open.size();
  const std::string b64 = page.substr(begin, page.find("</script>", begin) - begin);
  EXPECT_EQ(b64, base64_encode(gzip_compress(json)));
  // zlib reads it back as the JSON.
  std::string packed = gzip_compress(json);
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(json.size() + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(packed.data());
  z.avail_in = static_cast<uInt>(packed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  EXPECT_EQ(out, json);
}

TEST(HtmlReport, ThePolicyNamesTheHashesOfTheOneScriptAndStyleThePageHas) {
  const std::string page = render_html_report(R"({"x":"</script><img src=x onerror=alert(1)>"})", "t<itle>\"");
  // Exactly two script elements (data and code) whatever the data holds.
  std::size_t closes = 0;
  for (std::size_t at = page.find("</script"); at != std::string::npos; at = page.find("</script", at + 1)) ++closes;
  EXPECT_EQ(closes, 2u);
  EXPECT_NE(page.find("<title>t&lt;itle&gt;&quot;</title>"), std::string::npos);
  const std::size_t open = page.find("<script>") + 8;
  const std::string script = page.substr(open, page.find("</script>", open) - open);
  EXPECT_NE(page.find("script-src " + csp_hash_source(script) + ";"), std::string::npos);
  const std::size_t style_at = page.find("<style>") + 7;
  const std::string style = page.substr(style_at, page.find("</style>", style_at) - style_at);
  EXPECT_NE(page.find("style-src " + csp_hash_source(style) + ";"), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.find("unsafe-inline"), std::string::npos);
}

std::string alert_doc(const std::string& id, const std::string& host, const std::string& parent_pid) {
  return R"({"@timestamp":"2021-03-05T10:05:00Z","kibana.alert.uuid":")" + id +
         R"(","kibana.alert.original_time":"2021-03-05T10:01:02.5Z","kibana.alert.severity":"high",)"
         R"("kibana.alert.reason":"process event with process x.exe","kibana.alert.rule.rule_id":"r1",)"
         R"("kibana.alert.rule.name":"Rule One","kibana.alert.rule.type":"eql","kibana.alert.rule.severity":"high",)"
         R"("kibana.alert.rule.risk_score":73,"kibana.alert.rule.references":["https://example.org/a"],)"
         R"("kibana.alert.rule.threat":[{"framework":"MITRE ATT&CK","tactic":{"id":"TA0002","name":"Execution"},)"
         R"("technique":[{"id":"T1059","name":"Command and Scripting Interpreter","subtechnique":[{"id":"T1059.001","name":"PowerShell"}]},)"
         R"({"id":"T9999","name":"Not A Technique"}]}],)"
         R"("host":{"name":")" +
         host +
         R"("},"process":{"name":"x.exe","pid":42,"command_line":"x.exe -a"},)"
         R"("user":{"name":"alice","domain":"CORP"},)"
         R"("vigil.context":{"process_ancestry":[{"name":"cmd.exe","pid":")" +
         parent_pid +
         R"("},{"name":"explorer.exe","pid":"7"}],"network":[{"destination":"10.0.0.1","port":"443","time":"t"}]},)"
         R"("vigil.source":{"path":"a.evtx","record_id":12,"offset":4096}})";
}

TEST(ReportData, InternsTextAndKeepsEachAlertsTriageContext) {
  ReportData data(AttackCatalog::enterprise());
  EXPECT_EQ(data.add_alert(alert_doc("a1", "WKS1", "100")), std::nullopt);
  EXPECT_EQ(data.add_alert(alert_doc("a2", "WKS1", "100")), std::nullopt);
  EXPECT_EQ(data.add_alert(alert_doc("a3", "WKS2", "200")), std::nullopt);
  EXPECT_EQ(data.add_alert(alert_doc("a1", "WKS1", "100")), std::nullopt);  // the same alert again: kept once
  EXPECT_EQ(data.add_alert("{not json"), "not a JSON object");
  EXPECT_EQ(data.add_alert(R"({"event":{"kind":"event"}})"), "no kibana.alert.uuid: not an alert document");
  EXPECT_EQ(data.alert_count(), 3u);
  EXPECT_EQ(data.host_count(), 2u);
  const std::string json = data.to_json("now");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(json).get(doc)) << json.substr(0, 200);
  EXPECT_EQ(doc["alerts"].get_array().size(), 3u);
  EXPECT_EQ(doc["rules"].get_array().size(), 1u);
  // cmd.exe 100, cmd.exe 200 and explorer.exe: three processes for six ancestry links.
  EXPECT_EQ(doc["procs"].get_array().size(), 3u);
  simdjson::dom::array strings = doc["s"].get_array();
  auto text = [&](std::int64_t i) { return std::string(strings.at(static_cast<std::size_t>(i)).get_string().value()); };
  simdjson::dom::array first = doc["alerts"].at(0).get_array();
  EXPECT_EQ(text(first.at(0).get_int64()), "a1");
  EXPECT_EQ(first.at(2).get_int64().value(), 1614938462500);  // original time, ms
  EXPECT_EQ(first.at(5).get_int64().value(), 2);              // high
  simdjson::dom::array fields = first.at(10).get_array();
  std::map<std::string, std::string> shown;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
    shown[text(fields.at(i).get_int64())] = text(fields.at(i + 1).get_int64());
  EXPECT_EQ(shown["user"], "CORP\\alice");
  EXPECT_EQ(shown["pid"], "42");
  EXPECT_EQ(shown["command line"], "x.exe -a");
  EXPECT_EQ(first.at(11).get_array().size(), 2u);  // ancestry: parent, grandparent
  EXPECT_EQ(first.at(14).get_array().size(), 3u);  // one connection: destination, port, time
  EXPECT_EQ(text(first.at(15).get_array().at(0).get_int64()), "a.evtx record 12 (byte 4096)");
  // The rule's techniques (sub-techniques too); an id ATT&CK does not know keeps the rule's name for it.
  simdjson::dom::array rule = doc["rules"].at(0).get_array();
  EXPECT_EQ(rule.at(7).get_array().size(), 3u);
  std::string_view other;
  ASSERT_FALSE(doc["attack"]["other"]["T9999"].get_string().get(other));
  EXPECT_EQ(other, "Not A Technique");
  EXPECT_EQ(doc["attack"]["tactics"].get_array().size(), 14u);
}

TEST(ReportData, CoverageIsReadFromVigilCoverageJson) {
  ReportData data(AttackCatalog::enterprise());
  EXPECT_NE(data.set_coverage("[]", "c.json"), std::nullopt);
  EXPECT_EQ(
      data.set_coverage(
          R"({"techniques":[{"id":"T1059","name":"x","rules":["A","B"],"ready":3,"degraded":1,"blind":0}]})", "c.json"),
      std::nullopt);
  simdjson::dom::parser parser;
  const std::string json = data.to_json("now");
  simdjson::dom::array row = parser.parse(json)["coverage"]["techniques"]["T1059"].get_array();
  EXPECT_EQ(row.at(0).get_int64().value(), 3);
  EXPECT_EQ(row.at(1).get_int64().value(), 1);
  EXPECT_EQ(row.at(3).get_array().size(), 2u);
}

TEST(AttackCatalog, HoldsTheEnterpriseMatrix) {
  const AttackCatalog& c = AttackCatalog::enterprise();
  EXPECT_EQ(c.version(), "18.1");
  ASSERT_EQ(c.tactics().size(), 14u);
  EXPECT_EQ(c.tactics().front().id, "TA0043");  // Reconnaissance first, Impact last: matrix order
  EXPECT_EQ(c.tactics().back().shortname, "impact");
  const AttackTechnique* ps = c.technique("T1059.001");
  ASSERT_NE(ps, nullptr);
  EXPECT_EQ(ps->name, "PowerShell");
  ASSERT_EQ(ps->tactics.size(), 1u);
  EXPECT_EQ(c.tactics()[ps->tactics[0]].shortname, "execution");
  EXPECT_TRUE(ps->subtechnique());
  EXPECT_EQ(c.technique("T1086"), nullptr);  // revoked (now T1059.001)
  EXPECT_GT(c.techniques().size(), 600u);
}

TEST(NavigatorLayer, ScoresAndColoursEachTechniqueAndLeavesUnknownIdsOut) {
  std::vector<NavigatorTechnique> rows = {
      {"T1059", {{"All ready", 2, 0, 0, ""}}},
      {"T1059.001", {{"Half", 1, 0, 1, "no process events"}}},
      {"T1003", {{"Blind", 0, 0, 3, "no Sysmon 10"}}},
      {"T1086", {{"Old id", 1, 0, 0, ""}}},
  };
  NavigatorLayer layer = navigator_layer(rows, AttackCatalog::enterprise(), "n", "d");
  EXPECT_EQ(layer.techniques, 3u);
  ASSERT_EQ(layer.unknown_ids, std::vector<std::string>{"T1086"});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(layer.json).get(doc)) << layer.json;
  EXPECT_EQ(std::string_view(doc["versions"]["layer"].get_string().value()), "4.5");
  EXPECT_EQ(std::string_view(doc["domain"].get_string().value()), "enterprise-attack");
  simdjson::dom::array t = doc["techniques"].get_array();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.at(0)["score"].get_int64().value(), 100);
  EXPECT_EQ(std::string_view(t.at(0)["color"].get_string().value()), "#8ec843");
  EXPECT_TRUE(t.at(0)["showSubtechniques"].get_bool().value());  // its sub-technique is in the layer
  EXPECT_EQ(t.at(1)["score"].get_int64().value(), 50);
  EXPECT_EQ(std::string_view(t.at(1)["color"].get_string().value()), "#ffe766");
  EXPECT_EQ(std::string_view(t.at(1)["comment"].get_string().value()),
            "Half: ready on 1 of 2, blind on 1 — no process events");
  EXPECT_EQ(std::string_view(t.at(2)["color"].get_string().value()), "#ff6666");
}

}  // namespace
}  // namespace vigil
