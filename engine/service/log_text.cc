#include "engine/service/log_text.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/store/validation.h"

namespace adoption {
namespace {

// The length of the longest prefix of `text` that ends on a character
// boundary and is at most `max_bytes` long.
size_t CutAt(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of a character.
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

std::string LogText(absl::string_view text, size_t max_bytes) {
  const std::string_view all(text.data(), text.size());
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 16);
  size_t i = 0;
  while (i < text.size() && out.size() < max_bytes) {
    uint32_t cp = 0;
    const int len = DecodeUtf8(all, i, &cp);
    if (len == 0) {
      absl::StrAppendFormat(&out, "\\x%02X", static_cast<uint8_t>(text[i]));
      ++i;
      continue;
    }
    if (cp == '"' || cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(cp));
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      absl::StrAppendFormat(&out, "\\x%02X", cp);
    } else if ((cp >= 0x80 && cp <= 0x9F) || IsInvisibleFormatCharacter(cp)) {
      absl::StrAppendFormat(&out, "\\u{%04X}", cp);
    } else {
      out.append(text.data() + i, len);
    }
    i += len;
  }
  if (i < text.size()) absl::StrAppend(&out, "...(", text.size(), " bytes)");
  return out;
}

std::string ClipText(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  return absl::StrCat(text.substr(0, CutAt(text, max_bytes)), "...(", text.size(), " bytes)");
}

}  // namespace adoption
