#include "modality.h"

#include <cstdint>

namespace hartonomous::cli {
namespace {

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// IDX (LeCun's MNIST format): 0x00 0x00, type 0x08 (unsigned byte), 3 or 4
// dimensions of be32 sizes, then exactly their product of bytes.
bool LooksLikeIdx(std::string_view c) {
  if (c.size() < 4 || c[0] != 0 || c[1] != 0 || c[2] != 0x08) return false;
  const auto dims = static_cast<uint8_t>(c[3]);
  if (dims != 3 && dims != 4) return false;
  const size_t header = 4 + 4 * size_t{dims};
  if (c.size() < header) return false;
  uint64_t product = 1;
  for (size_t d = 0; d < dims; ++d) {
    uint32_t n = 0;
    for (size_t k = 0; k < 4; ++k) n = (n << 8) | static_cast<uint8_t>(c[4 + 4 * d + k]);
    product *= n;
    if (product > c.size()) return false;
  }
  return product == c.size() - header;
}

std::string ModalityOf(std::string_view format) {
  if (format == "text") return "text";
  if (format == "png" || format == "jpeg" || format == "pnm" || format == "idx") return "image";
  if (format == "wav") return "audio";
  if (format == "y4m") return "video";
  return "binary";
}

}  // namespace

ContentKind DetectContent(std::string_view /*path*/, std::string_view c) {
  std::string format;
  if (StartsWith(c, "\x89PNG\r\n\x1a\n")) {
    format = "png";
  } else if (StartsWith(c, "\xff\xd8\xff")) {
    format = "jpeg";
  } else if (c.size() >= 12 && StartsWith(c, "RIFF") && c.substr(8, 4) == "WAVE") {
    format = "wav";
  } else if (StartsWith(c, "YUV4MPEG2 ")) {
    format = "y4m";
  } else if (c.size() >= 3 && c[0] == 'P' && (c[1] == '5' || c[1] == '6') && IsSpace(c[2])) {
    format = "pnm";
  } else if (LooksLikeIdx(c)) {
    format = "idx";
  } else if (c.find('\0') == std::string_view::npos && IsValidUtf8(c)) {
    format = "text";
  } else {
    format = "binary";
  }
  return ContentKind{ModalityOf(format), format};
}

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
  return DetectContent(path, content).modality;
}

std::string GuessSubtype(std::string_view path, std::string_view content) {
  const ContentKind kind = DetectContent(path, content);
  if (kind.modality != "text" && kind.modality != "binary") return kind.format;
  std::string extension = LowercaseExtension(path);
  if (extension.size() > 16) return "";
  bool letter = false;
  for (char c : extension) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return "";
    letter = letter || (c >= 'a' && c <= 'z');
  }
  return letter ? extension : "";
}

bool LooksLikeLatin1Text(std::string_view bytes) {
  for (char ch : bytes) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' && c != 0x1b) {
      return false;
    }
    if (c >= 0x7f && c <= 0x9f) return false;
  }
  return true;
}

std::string Latin1ToUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  for (char ch : bytes) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
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
