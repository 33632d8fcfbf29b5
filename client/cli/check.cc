#include "check.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.h"
#include "json_output.h"

namespace hartonomous::cli {

std::vector<OptionSpec> CheckOptions() {
  return {{"repair", 0, "", "also fix index-only mismatches (never reference counts or content)"},
          {"limit", 0, "N", "mismatches listed, 1-10000 (default 100; all are counted)"}};
}

void RunCheck(const Invocation& invocation) {
  const v1::CheckConsistencyResponse response =
      Call(invocation, &Client::CheckConsistency, invocation.Has("repair"),
           invocation.GetInt32("limit", 0));
  if (invocation.global.json) {
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const auto& c : response.checks()) {
      checks.push_back({{"check", c.check()},
                        {"checked", c.checked()},
                        {"mismatches", c.mismatches()},
                        {"repaired", c.repaired()}});
    }
    nlohmann::ordered_json mismatches = nlohmann::ordered_json::array();
    for (const auto& m : response.mismatches()) {
      mismatches.push_back({{"check", m.check()},
                            {"kind", m.kind()},
                            {"table", m.table()},
                            {"ids", std::vector<uint64_t>(m.ids().begin(), m.ids().end())},
                            {"expected", m.expected()},
                            {"found", m.found()},
                            {"repaired", m.repaired()}});
    }
    nlohmann::ordered_json json;
    json["checks"] = std::move(checks);
    json["mismatches"] = std::move(mismatches);
    json["mismatch_count"] = response.mismatch_count();
    json["repaired_count"] = response.repaired_count();
    json["remaining_count"] = response.remaining_count();
    json["truncated"] = response.truncated();
    json["duration_ms"] = response.duration_ms();
    PrintJson(std::cout, json);
  } else {
    std::cout << "check            checked  mismatches  repaired\n";
    for (const auto& c : response.checks()) {
      std::string name = c.check();
      name.resize(std::max<size_t>(name.size(), 16), ' ');
      std::cout << name << ' ' << std::to_string(c.checked()) << "  "
                << std::to_string(c.mismatches()) << "  " << std::to_string(c.repaired()) << '\n';
    }
    for (const auto& m : response.mismatches()) {
      std::cout << (m.repaired() ? "repaired " : "mismatch ") << m.check() << ' ' << m.kind()
                << " [" << m.table() << "] ids";
      for (uint64_t id : m.ids()) std::cout << ' ' << id;
      std::cout << ": expected " << m.expected() << "; found " << m.found() << '\n';
    }
    if (response.truncated()) {
      std::cout << "(" << response.mismatches_size() << " of " << response.mismatch_count()
                << " mismatches listed; raise --limit to see more)\n";
    }
    std::cout << response.mismatch_count() << " mismatches, " << response.repaired_count()
              << " repaired, " << response.remaining_count() << " remaining ("
              << response.duration_ms() << " ms)\n";
  }
  if (response.remaining_count() > 0) {
    throw Failure("the data directory has " + std::to_string(response.remaining_count()) +
                  " unrepaired mismatches");
  }
}

}  // namespace hartonomous::cli
