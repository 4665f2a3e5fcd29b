// render_html_report: the page skeleton, its CSP and the embedded data.
#include "report/html_report.h"

#include <zlib.h>

#include "core/sha256.h"
#include "core/text.h"

namespace vigil {

extern const char* const kReportScript;
extern const char* const kReportStyle;

std::string escape_json_for_script(std::string_view json) {
  std::string out;
  out.reserve(json.size() + json.size() / 64);
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '\xE2':
        // U+2028 / U+2029 (E2 80 A8 / E2 80 A9): line terminators to some JavaScript parsers.
        if (i + 2 < json.size() && json[i + 1] == '\x80' && (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
          out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
          i += 2;
          break;
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string gzip_compress(std::string_view bytes) {
  z_stream z{};
  // windowBits 15 + 16: a gzip member, which the browser's DecompressionStream("gzip") reads.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string csp_hash_source(std::string_view content) {
  const auto digest = sha256(content);
  return "'sha256-" + base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size())) +
         "'";
}

std::string render_html_report(std::string_view data_json, std::string_view title) {
  const std::string_view script = kReportScript, style = kReportStyle;
  std::string out;
  out.reserve(data_json.size() + data_json.size() / 32 + script.size() + style.size() + 2048);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // default-src 'none': no fetch, image, font, frame or connection of any kind; the
  // script and style run because their hashes are named; inline handlers never do.
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src " +
         csp_hash_source(script) + "; style-src " + csp_hash_source(style) +
         "; img-src data:; base-uri 'none'; form-action 'none'\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"vigil\">\n";
  out += "<title>" + escape_html(title) + "</title>\n<style>";
  out += style;
  out +=
      "</style>\n</head>\n<body>\n<noscript>This report draws itself with JavaScript (offline: nothing is "
      "fetched).</noscript>\n";
  out += "<div id=\"app\"></div>\n";
  // The data once, gzip-compressed and base64-encoded (a few MB for 100 k
  // alerts, where the JSON is 5-6 times larger): the browser parses a small
  // element and inflates it with DecompressionStream. Past 4 GB of JSON (zlib's
  // 32-bit counts) or if compression fails, the JSON itself, escaped.
  const std::string packed = data_json.size() < (1ULL << 32) ? gzip_compress(data_json) : std::string();
  if (!packed.empty()) {
    out += "<script type=\"application/octet-stream\" id=\"vigil-data\" data-encoding=\"gzip+base64\">";
    out += base64_encode(packed);
  } else {
    out += "<script type=\"application/json\" id=\"vigil-data\">";
    out += escape_json_for_script(data_json);
  }
  out += "</script>\n<script>";
  out += script;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace vigil
