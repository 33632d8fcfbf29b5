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
#include "storage/key_codec.h"
#include "storage/lmdb_env.h"

namespace hartonomous::engine {

template <typename Message>
struct IdPage {
  std::vector<Message> records;
  std::string next_page_token;
};

// InvalidArgument for a token that is malformed or of another filter;
// DataLoss naming table_name for a record that does not parse;
// ResourceExhausted (ResponseBudget::Exceeded, naming item_name and its id)
// when the first record of the page alone does not fit in the budget.
// REQUIRES: page_size >= 1; size_of set when budget is.
template <typename Message>
Result<IdPage<Message>> ReadIdPage(storage::Txn& txn, MDB_dbi table, const char* table_name,
                                   const PageTokenCodec& tokens, uint64_t fingerprint,
                                   std::string_view page_token, int page_size,
                                   const std::function<bool(const Message&)>& keep,
                                   uint64_t (Message::*id)() const,
                                   ResponseBudget* budget = nullptr,
                                   const std::function<size_t(const Message&)>& size_of = nullptr,
                                   const char* item_name = "record") {
  uint64_t after = 0;
  if (!page_token.empty()) {
    HT_ASSIGN_OR_RETURN(after, tokens.Decode(page_token, fingerprint));
  }
  IdPage<Message> page;
  auto cursor = txn.OpenCursor(table);
  HT_ASSIGN_OR_RETURN(bool valid, cursor->Seek(storage::Be64Key(after + 1)));
  while (valid) {
    Message record;
    if (!record.ParseFromArray(cursor->value().data(), static_cast<int>(cursor->value().size()))) {
      return Status::DataLoss(std::string(table_name) + ": corrupt record at key " +
                              std::to_string(storage::ReadBe64(cursor->key())));
    }
    if (keep(record)) {
      if (static_cast<int>(page.records.size()) == page_size) {
        page.next_page_token = tokens.Encode((page.records.back().*id)(), fingerprint);
        break;
      }
      if (budget != nullptr && !budget->TryChargeItem(size_of(record))) {
        if (page.records.empty()) {
          return budget->Exceeded(std::string(item_name) + " " + std::to_string((record.*id)()) +
                                  " alone is larger");
        }
        page.next_page_token = tokens.Encode((page.records.back().*id)(), fingerprint);
        break;
      }
      page.records.push_back(std::move(record));
    }
    HT_ASSIGN_OR_RETURN(valid, cursor->Next());
  }
  return page;
}

}  // namespace hartonomous::engine
