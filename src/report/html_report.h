// The HTML triage report: one self-contained file (inline style, script and
// data; nothing fetched) that opens offline in any browser. Its
// Content-Security-Policy allows exactly the page's own script and style (by
// SHA-256), no network load and no inline event handler, so text from logs
// can at worst be shown, never run. docs/report.md.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// The page around `data_json` (ReportData::to_json).
std::string render_html_report(std::string_view data_json, std::string_view title);

// JSON text made safe inside an HTML <script> element: '<', '>', '&' and
// U+2028/U+2029 written as \u escapes (they can only occur inside JSON
// strings, where the escapes mean the same), so no "</script>" or "<!--" in
// a value can end or change the element.
std::string escape_json_for_script(std::string_view json);
// Text for HTML element content or a quoted attribute value.
std::string escape_html(std::string_view text);
// A gzip member of `bytes` (empty when zlib fails).
std::string gzip_compress(std::string_view bytes);
// The CSP source for an inline element's content: 'sha256-<base64 digest>'.
std::string csp_hash_source(std::string_view content);

}  // namespace vigil
