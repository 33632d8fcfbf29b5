// Text decomposition: UTF-8 text into paragraphs (runs of non-blank lines)
// and separators (runs of blank lines), each paragraph of two or more
// sentences into a composite of its sentences (a one-sentence paragraph is a
// leaf part with subtype 'paragraph'). Every byte — line endings (LF, CRLF, CR), trailing whitespace, a missing final
// newline — lands in exactly one sentence or separator, so the concatenation
// of the parts in order is the input.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

#include "server/engine/documents/decompose/decomposition.h"

namespace hartonomous::engine {

// Offset of the first byte that is not part of a well-formed UTF-8 sequence
// (overlong forms, surrogates and values past U+10FFFF are ill-formed), or
// npos when the text is valid.
size_t FindInvalidUtf8(std::string_view text);

// InvalidArgument naming `content` when text is not valid UTF-8.
Result<Decomposition> DecomposeText(std::string_view text, const DecomposeOptions& options);

// The sentences of one paragraph; their concatenation is the paragraph.
std::vector<std::string_view> SplitSentences(std::string_view paragraph);

}  // namespace hartonomous::engine
