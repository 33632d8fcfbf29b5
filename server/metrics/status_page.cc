#include "server/metrics/status_page.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace hartonomous::metrics {
namespace {

// The page's script: every 5 s the page fetches itself and swaps in the
// new report, so the numbers are rendered by the server only.
constexpr const char* kScript = R"(
let refreshes = 0;
async function refresh() {
  const live = document.getElementById('live');
  try {
    const reply = await fetch(location.pathname + location.search, {cache: 'no-store'});
    if (!reply.ok) throw new Error('HTTP ' + reply.status);
    const page = new DOMParser().parseFromString(await reply.text(), 'text/html');
    const fresh = page.getElementById('report');
    if (!fresh) throw new Error('no report in the reply');
    document.getElementById('report').replaceWith(fresh);
    refreshes += 1;
    document.body.dataset.refreshes = String(refreshes);
    live.textContent = 'live: refreshed every 5 s, last at ' + new Date().toLocaleTimeString();
    live.className = 'live';
  } catch (e) {
    live.textContent = 'not refreshed: ' + e.message;
    live.className = 'stale';
  }
}
refresh();
setInterval(refresh, 5000);
)";

constexpr const char* kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f4f6fa; }
header { background: #1d2433; color: #fff; padding: 12px 24px; display: flex; gap: 16px;
         align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; }
.badge { padding: 2px 10px; border-radius: 10px; font-weight: 600; }
.serving { background: #2e9e5b; } .starting { background: #c98a12; }
.degraded, .stopping { background: #c0392b; }
main { padding: 16px 24px; display: grid; gap: 16px;
       grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
section { background: #fff; border-radius: 8px; padding: 12px 16px;
          box-shadow: 0 1px 3px rgba(0,0,0,.12); }
section h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid #e3e7ee; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #5b6475; font-size: 12px; }
.live { color: #2e9e5b; } .stale { color: #c0392b; }
.warn { color: #c0392b; }
footer { padding: 0 24px 16px; }
)";

std::string Fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

// <td id=ID data-value=EXACT class=n>TEXT</td>
std::string NumberCell(const std::string& id, const std::string& exact, const std::string& text) {
  return "<td class=\"n\" id=\"" + id + "\" data-value=\"" + exact + "\">" + text + "</td>";
}
std::string CountCell(const std::string& id, uint64_t value) {
  return NumberCell(id, std::to_string(value), GroupDigits(value));
}
std::string BytesCell(const std::string& id, uint64_t value) {
  return NumberCell(id, std::to_string(value), HumanBytes(value));
}
std::string RateCell(const std::string& id, double value) {
  return NumberCell(id, Fixed(value, 3), Fixed(value, value < 10 ? 2 : 0));
}
std::string TextCell(const std::string& text) { return "<td>" + EscapeHtml(text) + "</td>"; }

std::string Row(const std::string& label, const std::string& cell) {
  return "<tr><th>" + label + "</th>" + cell + "</tr>\n";
}

std::string Percent(uint64_t part, uint64_t whole) {
  return whole == 0
             ? "-"
             : Fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1) + " %";
}

std::string Duration(uint64_t seconds) {
  const uint64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60;
  if (d > 0) return std::to_string(d) + " d " + std::to_string(h) + " h";
  if (h > 0) return std::to_string(h) + " h " + std::to_string(m) + " min";
  if (m > 0) return std::to_string(m) + " min " + std::to_string(seconds % 60) + " s";
  return std::to_string(seconds) + " s";
}

std::string UtcTime(int64_t at_us) {
  const std::time_t t = static_cast<std::time_t>(at_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string StorageSection(const StatusReport& r) {
  std::string s = "<section id=\"storage\"><h2>Storage (LMDB)</h2><table>\n";
  s += Row("Data file (high-water mark)", BytesCell("storage-data-file-bytes", r.data_file_bytes));
  s += Row("In use", BytesCell("storage-used-bytes", r.used_bytes));
  s += Row("Free pages (reused before the file grows)",
           BytesCell("storage-free-bytes", r.free_bytes));
  s += Row("Map size", BytesCell("storage-map-size-bytes", r.map_size_bytes));
  s += "</table></section>\n";
  return s;
}

std::string DedupSection(const StatusReport& r) {
  const ModalityRow& t = r.atoms_total;
  std::string s = "<section id=\"dedup\"><h2>Atoms and deduplication</h2><table>\n";
  s += Row("Unique atoms", CountCell("atoms-total-atoms", t.atoms));
  s += Row("References", CountCell("atoms-total-references", t.references));
  s += Row("Content as ingested", BytesCell("atoms-total-logical-bytes", t.logical_bytes));
  s += Row("Content stored once", BytesCell("atoms-total-unique-bytes", t.unique_bytes));
  s += Row("Saved by deduplication", BytesCell("atoms-dedup-saved-bytes", r.dedup_saved_bytes) +
                                         "<td class=\"n\" id=\"atoms-dedup-saved-percent\">" +
                                         Percent(r.dedup_saved_bytes, t.logical_bytes) + "</td>");
  s += Row("Saved by compression",
           BytesCell("atoms-total-compressed-away-bytes", t.compressed_away_bytes));
  s += Row("Disk in use per ingested byte",
           NumberCell("atoms-disk-per-logical-byte", Fixed(r.disk_per_logical_byte, 4),
                      r.atoms_total.logical_bytes == 0 ? "-" : Fixed(r.disk_per_logical_byte, 2)));
  s += "</table>\n<table><tr><th>Modality</th><th class=\"n\">Atoms</th>"
       "<th class=\"n\">References</th><th class=\"n\">Stored</th>"
       "<th class=\"n\">As ingested</th></tr>\n";
  for (size_t i = 0; i < r.modalities.size(); ++i) {
    const ModalityRow& m = r.modalities[i];
    const std::string id = "modality-" + std::to_string(i);
    s += "<tr>" + TextCell(m.modality) + CountCell(id + "-atoms", m.atoms) +
         CountCell(id + "-references", m.references) +
         BytesCell(id + "-unique-bytes", m.unique_bytes) +
         BytesCell(id + "-logical-bytes", m.logical_bytes) + "</tr>\n";
  }
  s += "</table></section>\n";
  return s;
}

std::string CollectionSection(const StatusReport& r) {
  std::string s = "<section id=\"collections\"><h2>Collections</h2>\n";
  if (!r.collections_loaded) {
    return s + "<p class=\"note\">The vector indexes are still loading.</p></section>\n";
  }
  if (r.collections.empty()) return s + "<p class=\"note\">No collection.</p></section>\n";
  s += "<table><tr><th>Name</th><th>Index</th><th class=\"n\">Dimension</th><th>Metric</th>"
       "<th class=\"n\">Vectors</th><th class=\"n\">Deleted</th><th class=\"n\">Memory</th></tr>\n";
  for (size_t i = 0; i < r.collections.size(); ++i) {
    const CollectionRow& c = r.collections[i];
    const std::string id = "collection-" + std::to_string(i);
    s += "<tr id=\"" + id + "\">" + TextCell(c.name) + TextCell(c.index_kind) +
         CountCell(id + "-dimension", c.dimension) + TextCell(c.metric) +
         CountCell(id + "-vectors", c.vectors) + CountCell(id + "-deleted", c.deleted) +
         BytesCell(id + "-memory-bytes", c.memory_bytes) + "</tr>\n";
  }
  s += "</table></section>\n";
  return s;
}

std::string ModelSection(const StatusReport& r) {
  std::string s = "<section id=\"models\"><h2>Models</h2><table>\n";
  s += Row("Models", CountCell("models-count", r.model_count));
  s += Row("Tensor bytes stored once", BytesCell("models-stored-bytes", r.model_stored_bytes));
  s += Row("Tensor bytes as imported", BytesCell("models-logical-bytes", r.model_logical_bytes));
  s += Row("Logged inferences", CountCell("inference-logs", r.inference_logs));
  s += "</table>\n";
  if (!r.models.empty()) {
    s += "<table><tr><th>Name</th><th>Type</th><th>Architecture</th><th class=\"n\">Layers</th>"
         "<th class=\"n\">Parameters</th><th class=\"n\">Uses</th></tr>\n";
    for (size_t i = 0; i < r.models.size(); ++i) {
      const ModelRow& m = r.models[i];
      const std::string id = "model-" + std::to_string(i);
      s += "<tr id=\"" + id + "\">" + TextCell(m.name) + TextCell(m.model_type) +
           TextCell(m.architecture) + CountCell(id + "-layers", m.layers) +
           CountCell(id + "-parameters", m.parameters) +
           CountCell(id + "-usage-count", m.usage_count) + "</tr>\n";
    }
    s += "</table>\n";
    if (r.model_count > r.models.size()) {
      s += "<p class=\"note\">The first " + std::to_string(r.models.size()) + " of " +
           GroupDigits(r.model_count) + " models by name.</p>\n";
    }
  }
  s += "</section>\n";
  return s;
}

std::string RpcSection(const StatusReport& r) {
  std::string s = "<section id=\"rpc\"><h2>Recent RPCs</h2>\n";
  s += "<p class=\"note\">Over the last <span id=\"rpc-interval-seconds\" data-value=\"" +
       Fixed(r.rpc.interval_seconds, 3) + "\">" + Fixed(r.rpc.interval_seconds, 0) +
       " s</span>.</p><table>\n";
  s += Row("Calls per second", RateCell("rpc-calls-per-second", r.rpc.calls_per_second));
  s += Row("Errors per second", RateCell("rpc-errors-per-second", r.rpc.errors_per_second));
  s += "</table>\n";
  if (!r.rpc.methods.empty()) {
    s += "<table><tr><th>Method</th><th class=\"n\">Calls</th><th class=\"n\">Errors</th>"
         "<th class=\"n\">Calls/s</th></tr>\n";
    for (size_t i = 0; i < r.rpc.methods.size(); ++i) {
      const MethodRate& m = r.rpc.methods[i];
      const std::string id = "rpc-" + std::to_string(i);
      s += "<tr id=\"" + id + "\">" + TextCell(m.method) + CountCell(id + "-calls", m.calls) +
           CountCell(id + "-errors", m.errors) +
           RateCell(id + "-calls-per-second", m.calls_per_second) + "</tr>\n";
    }
    s += "</table>\n";
  }
  s += "</section>\n";
  return s;
}

}  // namespace

std::string GroupDigits(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string HumanBytes(uint64_t bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < sizeof kUnits / sizeof kUnits[0]) {
    value /= 1024;
    ++unit;
  }
  return Fixed(value, 1) + " " + kUnits[unit];
}

std::string EscapeHtml(const std::string& text) {
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

std::string RenderStatusPage(const StatusReport& r) {
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>hartonomousd status</title>\n<style>";
  page += kStyle;
  page +=
      "</style></head>\n<body data-refreshes=\"0\">\n<div "
      "id=\"report\">\n<header><h1>hartonomousd " +
      EscapeHtml(r.version) + "</h1><span id=\"state\" data-value=\"" + EscapeHtml(r.state) +
      "\" class=\"badge " + EscapeHtml(r.state) + "\">" + EscapeHtml(r.state) + "</span>";
  if (!r.state_reason.empty()) {
    page += "<span id=\"state-reason\">" + EscapeHtml(r.state_reason) + "</span>";
  }
  page +=
      "<span>up <span id=\"uptime-seconds\" data-value=\"" + std::to_string(r.uptime_seconds) +
      "\">" + Duration(r.uptime_seconds) + "</span></span><span id=\"generated-at\" data-value=\"" +
      std::to_string(r.generated_at_us) + "\">" + UtcTime(r.generated_at_us) + "</span></header>\n";
  for (const std::string& part : r.unavailable) {
    page += "<p class=\"warn\">Not shown: " + EscapeHtml(part) + "</p>\n";
  }
  page += "<main>\n" + DedupSection(r) + StorageSection(r) + CollectionSection(r) +
          ModelSection(r) + RpcSection(r) +
          "</main>\n</div>\n<footer><span id=\"live\" class=\"note\">not refreshed (scripts "
          "off)</span></footer>\n<script>";
  page += kScript;
  page += "</script>\n</body></html>\n";
  return page;
}

}  // namespace hartonomous::metrics
