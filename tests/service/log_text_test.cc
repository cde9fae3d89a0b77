// LogText and ClipText: what a caller's text can and cannot do to a log line.
#include "engine/service/log_text.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(LogTextTest, PlainTextIsKept) {
  EXPECT_EQ(LogText("fitter: unknown fitter citation2"), "fitter: unknown fitter citation2");
  EXPECT_EQ(LogText("modèle/日本語-😀"), "modèle/日本語-😀");
  EXPECT_EQ(LogText(""), "");
}

// The probe: a name with a newline wrote a standalone, valid-looking line.
TEST(LogTextTest, ALineCannotBeEndedOrItsQuotesClosed) {
  const std::string forged =
      LogText("x\"\n2026-12-01T00:00:00.000000Z info event=rpc method=DeleteSeries code=OK\r\\");
  EXPECT_EQ(forged,
            "x\\\"\\n2026-12-01T00:00:00.000000Z info event=rpc method=DeleteSeries "
            "code=OK\\r\\\\");
  EXPECT_THAT(forged, Not(HasSubstr("\n")));
  EXPECT_THAT(forged, Not(HasSubstr("\r")));
}

TEST(LogTextTest, ControlsInvisiblesAndBadBytesAreEscaped) {
  EXPECT_EQ(LogText("a\tb"), "a\\tb");
  EXPECT_EQ(LogText(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(LogText("\x1b[31mred\x7f"), "\\x1B[31mred\\x7F");
  EXPECT_EQ(LogText("a\xc2\x85z"), "a\\u{0085}z");            // C1 NEL
  EXPECT_EQ(LogText("org/\u202Eflow"), "org/\\u{202E}flow");  // RLO
  EXPECT_EQ(LogText("a\u2028b\u200Bc\uFEFF"), "a\\u{2028}b\\u{200B}c\\u{FEFF}");
  EXPECT_EQ(LogText("ok\xff\xc3"), "ok\\xFF\\xC3");
}

TEST(LogTextTest, LongTextIsCutAtACharacterAndSaysItsLength) {
  const std::string long_text = std::string(5000, 'a');
  const std::string logged = LogText(long_text, 100);
  EXPECT_EQ(logged, std::string(100, 'a') + "...(5000 bytes)");
  // A cut never splits a character.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "é";
  EXPECT_THAT(LogText(accents, 51), EndsWith("éé...(200 bytes)"));
}

TEST(ClipTextTest, CutsAtACharacterBoundary) {
  EXPECT_EQ(ClipText("short", 10), "short");
  EXPECT_EQ(ClipText("abcdef", 3), "abc...(6 bytes)");
  EXPECT_EQ(ClipText("aé", 2), "a...(3 bytes)");  // é is 2 bytes: not split
  EXPECT_EQ(ClipText(std::string(100000, 'x'), 2048), std::string(2048, 'x') + "...(100000 bytes)");
}

}  // namespace
}  // namespace adoption
