#include "api_keys.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli_errors.h"
#include "commands.h"
#include "format.h"
#include "json_output.h"
#include "table.h"

namespace hartonomous::cli {
namespace {

v1::Role ParseRole(const std::string& text) {
  if (text == "read") return v1::ROLE_READ;
  if (text == "write") return v1::ROLE_WRITE;
  if (text == "admin") return v1::ROLE_ADMIN;
  throw UsageError("--role: one of read|write|admin, got '" + text + "'");
}

std::string RoleText(v1::Role role) {
  switch (role) {
    case v1::ROLE_READ:
      return "read";
    case v1::ROLE_WRITE:
      return "write";
    case v1::ROLE_ADMIN:
      return "admin";
    default:
      return "unspecified";
  }
}

nlohmann::ordered_json KeyJson(const v1::ApiKey& key) {
  nlohmann::ordered_json json{{"key_id", key.key_id()},
                              {"name", key.name()},
                              {"role", RoleText(key.role())},
                              {"created_at", FormatTimestamp(key.created_at())}};
  json["revoked_at"] =
      key.has_revoked_at() ? nlohmann::ordered_json(FormatTimestamp(key.revoked_at())) : nullptr;
  return json;
}

}  // namespace

void RunKeysCreate(const Invocation& invocation) {
  if (!invocation.Has("role")) throw UsageError("keys create needs --role read|write|admin");
  const v1::Role role = ParseRole(invocation.Get("role"));
  const v1::CreateApiKeyResponse created =
      Call(invocation, &Client::CreateApiKey, invocation.args[0], role);
  if (invocation.global.json) {
    nlohmann::ordered_json json = KeyJson(created.key());
    json["token"] = created.token();
    PrintJson(std::cout, json);
    return;
  }
  std::cout << "created API key " << created.key().key_id() << " '" << created.key().name() << "' ("
            << RoleText(created.key().role()) << ")\n"
            << "token (shown once; the server keeps only its hash):\n"
            << created.token() << "\n";
}

void RunKeysList(const Invocation& invocation) {
  const v1::ListApiKeysResponse listed = Call(invocation, &Client::ListApiKeys);
  if (invocation.global.json) {
    nlohmann::ordered_json keys = nlohmann::ordered_json::array();
    for (const v1::ApiKey& key : listed.keys()) keys.push_back(KeyJson(key));
    PrintJson(std::cout, nlohmann::ordered_json{{"keys", keys}});
    return;
  }
  Table table({{"KEY_ID", true}, {"NAME"}, {"ROLE"}, {"CREATED"}, {"REVOKED"}});
  for (const v1::ApiKey& key : listed.keys()) {
    table.AddRow({std::to_string(key.key_id()), key.name(), RoleText(key.role()),
                  FormatTimestamp(key.created_at()),
                  key.has_revoked_at() ? FormatTimestamp(key.revoked_at()) : "-"});
  }
  table.Flush(std::cout);
  if (listed.keys_size() == 0) std::cout << "no API keys (authentication is off)\n";
}

void RunKeysRevoke(const Invocation& invocation) {
  const v1::ApiKey key =
      Call(invocation, &Client::RevokeApiKey, ParseUint64(invocation.args[0], "key id"));
  if (invocation.global.json) {
    PrintJson(std::cout, KeyJson(key));
    return;
  }
  std::cout << "revoked API key " << key.key_id() << " '" << key.name() << "' at "
            << FormatTimestamp(key.revoked_at()) << "\n";
}

}  // namespace hartonomous::cli
