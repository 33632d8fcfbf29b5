#include "server/engine/documents/decompose/text_decomposer.h"

#include "server/engine/documents/decompose/part_budget.h"

namespace hartonomous::engine {
namespace {

bool IsBlankLine(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') return false;
  }
  return true;
}

// The next line starting at `at`, with its terminator (LF, CRLF or CR).
std::string_view NextLine(std::string_view text, size_t at) {
  size_t i = at;
  while (i < text.size() && text[i] != '\n' && text[i] != '\r') ++i;
  if (i < text.size()) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    ++i;
  }
  return text.substr(at, i - at);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

}  // namespace

size_t FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

namespace {

// Calls fn(sentence) for each sentence of a paragraph in order.
template <typename Fn>
void ForEachSentence(std::string_view p, Fn&& fn) {
  size_t start = 0;
  size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '.' || c == '!' || c == '?') {
      size_t j = i + 1;
      while (j < p.size() && (p[j] == '.' || p[j] == '!' || p[j] == '?')) ++j;
      while (j < p.size() && (p[j] == '"' || p[j] == '\'' || p[j] == ')' || p[j] == ']')) ++j;
      if (j < p.size() && IsSpace(p[j])) {
        while (j < p.size() && IsSpace(p[j])) ++j;
        fn(p.substr(start, j - start));
        start = j;
      }
      i = j;
      continue;
    }
    ++i;
  }
  if (start < p.size()) fn(p.substr(start));
}

}  // namespace

std::vector<std::string_view> SplitSentences(std::string_view p) {
  std::vector<std::string_view> out;
  ForEachSentence(p, [&](std::string_view sentence) { out.push_back(sentence); });
  return out;
}

Result<Decomposition> DecomposeText(std::string_view text, const DecomposeOptions&) {
  PartBudget budget(text.size());
  if (const size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
    return Status::InvalidArgument(
        "content: declared as text but not valid UTF-8 (ill-formed "
        "sequence at byte offset " +
        std::to_string(bad) + ")");
  }
  Decomposition d;
  d.modality = "text";
  d.format = "text";
  size_t at = 0;
  uint64_t paragraphs = 0, sentences = 0, separators = 0;
  while (at < text.size()) {
    const bool blank = IsBlankLine(NextLine(text, at));
    size_t end = at;
    while (end < text.size()) {
      const std::string_view line = NextLine(text, end);
      if (IsBlankLine(line) != blank) break;
      end += line.size();
    }
    const std::string_view run = text.substr(at, end - at);
    HT_RETURN_IF_ERROR(budget.Take(1));
    if (blank) {
      d.parts.push_back(Leaf(std::string(run), "separator"));
      ++separators;
    } else {
      // Counted first: a paragraph past the budget is refused before its
      // sentences are copied.
      size_t count = 0;
      ForEachSentence(run, [&](std::string_view) { ++count; });
      HT_RETURN_IF_ERROR(budget.Take(count));
      ++paragraphs;
      sentences += count;
      if (count == 1) {
        // A one-sentence paragraph is its sentence: one atom, not a
        // composite listing a single child.
        d.parts.push_back(Leaf(std::string(run), "paragraph"));
        at = end;
        continue;
      }
      Part paragraph;
      paragraph.subtype = "paragraph";
      paragraph.composite = true;
      paragraph.children.reserve(count);
      ForEachSentence(run, [&](std::string_view sentence) {
        paragraph.children.push_back(Leaf(std::string(sentence), "sentence"));
      });
      d.parts.push_back(std::move(paragraph));
    }
    at = end;
  }
  d.info = {{"format", "text"},
            {"size", text.size()},
            {"paragraphs", paragraphs},
            {"sentences", sentences},
            {"separators", separators}};
  return d;
}

}  // namespace hartonomous::engine
