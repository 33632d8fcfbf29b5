#include "modality.h"

#include <cstdint>

namespace hartonomous::cli {
namespace {

struct ExtensionModality {
  std::string_view extension;
  std::string_view modality;
};

// clang-format off
constexpr ExtensionModality kExtensions[] = {
    // Text: prose, data and markup formats, source code.
    {"txt", "text"}, {"text", "text"}, {"md", "text"}, {"markdown", "text"},
    {"rst", "text"}, {"adoc", "text"}, {"tex", "text"}, {"json", "text"},
    {"jsonl", "text"}, {"ndjson", "text"}, {"csv", "text"}, {"tsv", "text"},
    {"xml", "text"}, {"html", "text"}, {"htm", "text"}, {"yaml", "text"},
    {"yml", "text"}, {"toml", "text"}, {"ini", "text"}, {"cfg", "text"},
    {"conf", "text"}, {"log", "text"}, {"sql", "text"}, {"proto", "text"},
    {"c", "text"}, {"cc", "text"}, {"cpp", "text"}, {"cxx", "text"},
    {"h", "text"}, {"hh", "text"}, {"hpp", "text"}, {"py", "text"},
    {"js", "text"}, {"ts", "text"}, {"go", "text"}, {"rs", "text"},
    {"java", "text"}, {"sh", "text"}, {"css", "text"}, {"cmake", "text"},
    // Media and tensors.
    {"png", "image"}, {"jpg", "image"}, {"jpeg", "image"}, {"pgm", "image"},
    {"ppm", "image"}, {"wav", "audio"}, {"y4m", "video"}, {"mp4", "video"},
    {"npy", "tensor"},
};
// clang-format on

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string LowercaseExtension(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return "";
  std::string extension(name.substr(dot + 1));
  for (char& c : extension) c = ToLower(c);
  return extension;
}

std::string GuessModality(std::string_view path, std::string_view content) {
  const std::string extension = LowercaseExtension(path);
  if (extension.empty()) return IsValidUtf8(content) ? "text" : "binary";
  for (const ExtensionModality& entry : kExtensions) {
    if (entry.extension == extension) return std::string(entry.modality);
  }
  return "binary";
}

std::string GuessSubtype(std::string_view path) {
  std::string extension = LowercaseExtension(path);
  if (extension.size() > 16) return "";
  for (char c : extension) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return "";
  }
  return extension;
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const auto c = static_cast<uint8_t>(bytes[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code_point;
    uint32_t min_code_point;
    if ((c & 0xE0) == 0xC0) {
      length = 2, code_point = c & 0x1F, min_code_point = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code_point = c & 0x0F, min_code_point = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code_point = c & 0x07, min_code_point = 0x10000;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<uint8_t>(bytes[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < min_code_point || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace hartonomous::cli
