// The status page (GET /status on the metrics port): one self-contained HTML
// document -- inline style and script, no build step, nothing fetched from
// elsewhere -- rendered on the server from a StatusReport, so it reads
// correctly without JavaScript. Its script refreshes the numbers every 5 s
// from GET /status.json (same origin; the bearer token, when the port has
// one, is the browser's to send).
//
// Every number carries its exact value in a data-value attribute and every
// element that holds one has a stable id ("atoms-total-logical-bytes",
// "collection-<i>-vectors", "rpc-<i>-calls"), for scripts and tests; the
// text shows it for people (1.2 MiB, 3,456).
//
// Every name from the store (collections, models, methods) is HTML-escaped.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "server/metrics/status_report.h"

namespace hartonomous::metrics {

std::string RenderStatusPage(const StatusReport& report);

// "1,234,567"
std::string GroupDigits(uint64_t value);
// "0 B", "512 B", "1.5 KiB", "23.4 MiB", "2.0 GiB"
std::string HumanBytes(uint64_t bytes);
// &, <, >, ", ' escaped.
std::string EscapeHtml(const std::string& text);

}  // namespace hartonomous::metrics
