#include "policies.h"

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_errors.h"
#include "commands.h"
#include "format.h"
#include "json_output.h"

namespace hartonomous::cli {
namespace {

namespace v1 = ::hartonomous::v1;
using json = nlohmann::ordered_json;

json PolicyToJson(const v1::DeduplicationPolicy& p) {
  return {{"policy_id", p.policy_id()},
          {"policy_name", p.policy_name()},
          {"hash_enabled", p.hash_enabled()},
          {"semantic_threshold",
           p.has_semantic_threshold() ? json(p.semantic_threshold()) : json(nullptr)},
          {"spatial_threshold",
           p.has_spatial_threshold() ? json(p.spatial_threshold()) : json(nullptr)},
          {"is_active", p.is_active()},
          {"metadata", MetadataToJson(p.metadata())},
          {"created_at", FormatTimestamp(p.created_at())},
          {"updated_at", FormatTimestamp(p.updated_at())}};
}

std::string Threshold(bool has, double value) {
  if (!has) return "-";
  std::ostringstream out;
  out << value;
  return out.str();
}

void PrintPolicyLine(std::ostream& out, const v1::DeduplicationPolicy& p) {
  out << p.policy_id() << "  " << p.policy_name() << "  hash=" << (p.hash_enabled() ? "on" : "off")
      << "  semantic=" << Threshold(p.has_semantic_threshold(), p.semantic_threshold())
      << "  spatial=" << Threshold(p.has_spatial_threshold(), p.spatial_threshold()) << "  "
      << (p.is_active() ? "active" : "inactive")
      << (p.metadata().empty() ? "" : "  " + p.metadata()) << "\n";
}

void PrintPolicy(const Invocation& invocation, const v1::DeduplicationPolicy& policy) {
  if (invocation.global.json) {
    PrintJson(std::cout, PolicyToJson(policy));
  } else {
    PrintPolicyLine(std::cout, policy);
  }
}

// A threshold flag: a number, or "none" to clear it (update only).
bool ReadThreshold(const Invocation& invocation, std::string_view name, bool allow_none,
                   double* value) {
  const std::string text = invocation.Get(name);
  if (allow_none && text == "none") return false;
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(*value)) {
    throw UsageError("--" + std::string(name) + " must be a number" +
                     (allow_none ? " or 'none'" : "") + ", got '" + text + "'");
  }
  return true;
}

void ReadMetadata(const Invocation& invocation, v1::DeduplicationPolicy* policy) {
  const std::string text = invocation.Get("metadata");
  const auto parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!text.empty() && !parsed.is_object()) {
    throw UsageError("--metadata must be a JSON object, e.g. '{\"k\": \"v\"}'");
  }
  policy->set_metadata(text);
}

bool ReadOnOff(const Invocation& invocation, std::string_view name) {
  const std::string text = invocation.Get(name);
  if (text == "on") return true;
  if (text == "off") return false;
  throw UsageError("--" + std::string(name) + " must be on or off, got '" + text + "'");
}

}  // namespace

std::vector<OptionSpec> PolicyListOptions() {
  return {{"active", 0, "", "only active policies"}, {"inactive", 0, "", "only inactive policies"}};
}

std::vector<OptionSpec> PolicyCreateOptions() {
  return {{"hash", 0, "on|off", "exact SHA-256 matching (default on)"},
          {"semantic", 0, "T", "reuse an atom whose embedding's cosine similarity is >= T, (0, 1]"},
          {"spatial", 0, "D", "reuse an atom whose projected point is within D, >= 0"},
          {"inactive", 0, "", "create the policy inactive"},
          {"metadata", 0, "JSON", "a JSON object stored with the policy"}};
}

std::vector<OptionSpec> PolicyUpdateOptions() {
  return {{"name", 0, "NAME", "rename the policy"},
          {"hash", 0, "on|off", "exact SHA-256 matching"},
          {"semantic", 0, "T|none", "the semantic threshold, or none to clear it"},
          {"spatial", 0, "D|none", "the spatial threshold, or none to clear it"},
          {"active", 0, "", "activate the policy"},
          {"inactive", 0, "", "deactivate the policy"},
          {"metadata", 0, "JSON", "replace the policy's metadata"}};
}

void RunPolicyList(const Invocation& invocation) {
  if (invocation.Has("active") && invocation.Has("inactive")) {
    throw UsageError("--active and --inactive exclude each other");
  }
  v1::ListPoliciesRequest request;
  if (invocation.Has("active")) request.set_is_active(true);
  if (invocation.Has("inactive")) request.set_is_active(false);
  Client client(MakeClientOptions(invocation.global));
  json all = json::array();
  uint64_t count = 0;
  while (true) {
    v1::ListPoliciesResponse page;
    Check(client.ListPolicies(request, &page));
    for (const auto& p : page.policies()) {
      if (invocation.global.json) {
        all.push_back(PolicyToJson(p));
      } else {
        PrintPolicyLine(std::cout, p);
      }
      ++count;
    }
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (invocation.global.json) {
    PrintJson(std::cout, all);
  } else {
    std::cout << count << " policies\n";
  }
}

void RunPolicyShow(const Invocation& invocation) {
  v1::GetPolicyRequest request;
  const std::string& key = invocation.args[0];
  if (AllDigits(key)) {
    request.set_policy_id(ParseUint64(key, "policy id"));
  } else {
    request.set_policy_name(key);
  }
  PrintPolicy(invocation, Call(invocation, &Client::GetPolicy, request));
}

void RunPolicyCreate(const Invocation& invocation) {
  v1::DeduplicationPolicy policy;
  policy.set_policy_name(invocation.args[0]);
  policy.set_hash_enabled(invocation.Has("hash") ? ReadOnOff(invocation, "hash") : true);
  double value = 0;
  if (invocation.Has("semantic") && ReadThreshold(invocation, "semantic", false, &value)) {
    policy.set_semantic_threshold(value);
  }
  if (invocation.Has("spatial") && ReadThreshold(invocation, "spatial", false, &value)) {
    policy.set_spatial_threshold(value);
  }
  policy.set_is_active(!invocation.Has("inactive"));
  ReadMetadata(invocation, &policy);
  PrintPolicy(invocation, Call(invocation, &Client::CreatePolicy, policy));
}

void RunPolicyUpdate(const Invocation& invocation) {
  if (invocation.Has("active") && invocation.Has("inactive")) {
    throw UsageError("--active and --inactive exclude each other");
  }
  v1::UpdatePolicyRequest request;
  v1::DeduplicationPolicy* policy = request.mutable_policy();
  const std::string& key = invocation.args[0];
  if (AllDigits(key)) {
    policy->set_policy_id(ParseUint64(key, "policy id"));
  } else {
    policy->set_policy_name(key);
  }
  auto* mask = request.mutable_update_mask();
  if (invocation.Has("name")) {
    // Renaming needs the id: the name field carries the new name.
    if (policy->policy_id() == 0) {
      v1::GetPolicyRequest get;
      get.set_policy_name(key);
      policy->set_policy_id(Call(invocation, &Client::GetPolicy, get).policy_id());
    }
    policy->set_policy_name(invocation.Get("name"));
    mask->add_paths("policy_name");
  }
  if (invocation.Has("hash")) {
    policy->set_hash_enabled(ReadOnOff(invocation, "hash"));
    mask->add_paths("hash_enabled");
  }
  double value = 0;
  if (invocation.Has("semantic")) {
    if (ReadThreshold(invocation, "semantic", true, &value)) policy->set_semantic_threshold(value);
    mask->add_paths("semantic_threshold");
  }
  if (invocation.Has("spatial")) {
    if (ReadThreshold(invocation, "spatial", true, &value)) policy->set_spatial_threshold(value);
    mask->add_paths("spatial_threshold");
  }
  if (invocation.Has("active") || invocation.Has("inactive")) {
    policy->set_is_active(invocation.Has("active"));
    mask->add_paths("is_active");
  }
  if (invocation.Has("metadata")) {
    ReadMetadata(invocation, policy);
    mask->add_paths("metadata");
  }
  if (mask->paths_size() == 0) {
    throw UsageError(
        "nothing to change: give --name, --hash, --semantic, --spatial, --active, --inactive or "
        "--metadata");
  }
  PrintPolicy(invocation, Call(invocation, &Client::UpdatePolicy, request));
}

void RunPolicyDelete(const Invocation& invocation) {
  v1::DeletePolicyRequest request;
  const std::string& key = invocation.args[0];
  if (AllDigits(key)) {
    request.set_policy_id(ParseUint64(key, "policy id"));
  } else {
    request.set_policy_name(key);
  }
  const v1::DeletePolicyResponse response = Call(invocation, &Client::DeletePolicy, request);
  if (invocation.global.json) {
    PrintJson(std::cout, {{"deleted_policy_id", response.policy_id()}});
  } else {
    std::cout << "deleted policy " << response.policy_id() << "\n";
  }
}

}  // namespace hartonomous::cli
