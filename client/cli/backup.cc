#include "backup.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "json_output.h"

namespace hartonomous::cli {

void RunBackup(const Invocation& invocation) {
  const v1::BackupResponse backup = Call(invocation, &Client::Backup, invocation.args[0]);
  if (invocation.global.json) {
    nlohmann::ordered_json json;
    json["path"] = backup.path();
    json["data_file_bytes"] = backup.data_file_bytes();
    json["index_files"] = backup.index_files();
    json["index_bytes"] = backup.index_bytes();
    json["duration_ms"] = backup.duration_ms();
    PrintJson(std::cout, json);
    return;
  }
  std::cout << "backup " << backup.path() << ": data.mdb " << backup.data_file_bytes() << " B, "
            << backup.index_files() << " index files (" << backup.index_bytes() << " B) in "
            << backup.duration_ms() << " ms\n";
}

}  // namespace hartonomous::cli
