// Prometheus text exposition format (version 0.0.4): the HELP and TYPE
// lines of a family and its samples, with label values escaped as the
// format requires (backslash, double quote, line feed).
//
// Thread-safety: functions on caller-owned strings.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hartonomous::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// "# HELP name help\n# TYPE name type\n"; type: counter|gauge|histogram.
void AppendFamilyHeader(std::string* out, const std::string& name, const std::string& help,
                        const std::string& type);

// "name{k="v",...} value\n" (no braces without labels).
void AppendSample(std::string* out, const std::string& name, const Labels& labels, double value);

// A gauge family whose samples are known at once.
void AppendGauge(std::string* out, const std::string& name, const std::string& help,
                 const std::vector<std::pair<Labels, double>>& samples);

// A value as the format writes it: integers without a fraction, +Inf.
std::string FormatValue(double value);

}  // namespace hartonomous::metrics
