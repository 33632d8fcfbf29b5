#include "server/metrics/prometheus_text.h"

#include <cmath>
#include <cstdio>

namespace hartonomous::metrics {
namespace {

void AppendEscaped(std::string* out, const std::string& value, bool quote_too) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && quote_too) {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", value);
  } else {
    std::snprintf(buf, sizeof(buf), "%.9g", value);
  }
  return buf;
}

void AppendFamilyHeader(std::string* out, const std::string& name, const std::string& help,
                        const std::string& type) {
  *out += "# HELP " + name + " ";
  AppendEscaped(out, help, false);
  *out += "\n# TYPE " + name + " " + type + "\n";
}

void AppendSample(std::string* out, const std::string& name, const Labels& labels, double value) {
  *out += name;
  if (!labels.empty()) {
    *out += '{';
    bool first = true;
    for (const auto& [key, val] : labels) {
      if (!first) *out += ',';
      first = false;
      *out += key + "=\"";
      AppendEscaped(out, val, true);
      *out += '"';
    }
    *out += '}';
  }
  *out += ' ' + FormatValue(value) + '\n';
}

void AppendGauge(std::string* out, const std::string& name, const std::string& help,
                 const std::vector<std::pair<Labels, double>>& samples) {
  AppendFamilyHeader(out, name, help, "gauge");
  for (const auto& [labels, value] : samples) AppendSample(out, name, labels, value);
}

}  // namespace hartonomous::metrics
