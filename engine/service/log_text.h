// Text from callers (error messages that quote a request, names, ids) as it
// may appear in adoptiond's logs and in gRPC status messages.
//
// Logs are one `key=value` line per event, free text quoted as
// message="...". Text that could end the quotes or the line (a quote, a
// backslash, a newline), or that a terminal would act on (escape sequences,
// bidirectional overrides), would let a caller write lines of its choosing
// into the log: `LogText` makes such text inert and the line unambiguous.
// Validation at the edge (engine/store/validation.h) refuses most of it
// first; this is the guarantee for whatever is logged anyway.
#ifndef ADOPTION_ENGINE_SERVICE_LOG_TEXT_H_
#define ADOPTION_ENGINE_SERVICE_LOG_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace adoption {

// `text` escaped for a double-quoted log value, at most about `max_bytes`
// long: `"` and `\` get a backslash; \n \r \t are written so; other C0
// controls, DEL and bytes that are not UTF-8 are written \xHH; C1 controls,
// line and paragraph separators (U+2028, U+2029) and invisible format
// characters (bidirectional controls, zero-width characters, U+FEFF) are
// written \u{HHHH}; the rest of UTF-8 is kept. Longer text is cut at a
// character boundary and ends with "...(N bytes)" giving the full length.
std::string LogText(absl::string_view text, size_t max_bytes = 1024);

// `text` cut to at most `max_bytes` at a UTF-8 character boundary, ending
// with "...(N bytes)" when cut; unchanged otherwise. For gRPC status
// messages: clients refuse trailers past a few KiB (the message travels
// percent-encoded in grpc-message), so an error that quotes a huge request
// field would reach the client as a transport error instead of itself.
std::string ClipText(absl::string_view text, size_t max_bytes);

}  // namespace adoption

#endif  // ADOPTION_ENGINE_SERVICE_LOG_TEXT_H_
