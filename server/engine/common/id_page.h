// ReadIdPage: one page of a table keyed by be64(id) that holds one protobuf
// record per id (atoms, deduplication policies): the records after the page
// token's id that pass keep(), at most page_size of them, in id order, and
// the token of the next page (empty when no further record matches). Tokens
// are bound to the filter through its fingerprint (PageTokenCodec).
// With a response budget, the page also ends before the first record whose
// size (size_of, charged before the record is kept) would not fit.
//
// Thread-safety: a pure function of its arguments; txn belongs to the caller.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/engine/common/page_token.h"
#include "server/engine/common/response_budget.h"
#include "storage/lmdb_env.h"
#include "storage/tables/id_table.h"

namespace hartonomous::engine {

template <typename Message>
struct IdPage {
  std::vector<Message> records;
  std::string next_page_token;
};

// InvalidArgument for a token that is malformed or of another filter;
// DataLoss naming the table for a record that does not parse;
// ResourceExhausted (ResponseBudget::Exceeded, naming item_name and its id)
// when the first record of the page alone does not fit in the budget.
// REQUIRES: page_size >= 1; size_of set when budget is.
template <typename Message>
Result<IdPage<Message>> ReadIdPage(storage::Txn& txn, const storage::IdTable<Message>& table,
                                   const PageTokenCodec& tokens, uint64_t fingerprint,
                                   std::string_view page_token, int page_size,
                                   const std::function<bool(const Message&)>& keep,
                                   ResponseBudget* budget = nullptr,
                                   const std::function<size_t(const Message&)>& size_of = nullptr,
                                   const char* item_name = "record") {
  uint64_t after = 0;
  if (!page_token.empty()) {
    HT_ASSIGN_OR_RETURN(after, tokens.Decode(page_token, fingerprint));
  }
  IdPage<Message> page;
  uint64_t last_id = 0;  // id of page.records.back()
  Status stopped;
  HT_RETURN_IF_ERROR(table.ScanAfter(txn, after, [&](uint64_t id, Message&& record) {
    if (!keep(record)) return true;
    if (static_cast<int>(page.records.size()) == page_size) {
      page.next_page_token = tokens.Encode(last_id, fingerprint);
      return false;
    }
    if (budget != nullptr && !budget->TryChargeItem(size_of(record))) {
      if (page.records.empty()) {
        stopped = budget->Exceeded(std::string(item_name) + " " + std::to_string(id) +
                                   " alone is larger");
      } else {
        page.next_page_token = tokens.Encode(last_id, fingerprint);
      }
      return false;
    }
    page.records.push_back(std::move(record));
    last_id = id;
    return true;
  }));
  HT_RETURN_IF_ERROR(stopped);
  return page;
}

}  // namespace hartonomous::engine
