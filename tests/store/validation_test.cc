// Every rule of ValidateSeries / ValidateSeriesId, table-driven.

#include "engine/store/validation.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace adoption {
namespace {

using ::testing::StartsWith;

// Ten points at t = 0..9 with value = t: valid, and easy to break.
SeriesRecord ValidSeries() {
  SeriesRecord s;
  s.id = "meta-llama/Llama-2-7b-hf";
  s.unit = "finetunes";
  s.metadata = {{"org", "Meta"}, {"base_model.name", "Llama-2"}};
  for (int i = 0; i < 10; ++i) s.points.push_back({double(i), double(i)});
  return s;
}

struct Case {
  std::string name;
  std::function<void(SeriesRecord&)> mutate;
  // Empty: valid. Otherwise the exact start of the INVALID_ARGUMENT message.
  std::string message_prefix;
  SeriesLimits limits = SeriesLimits();
};

const double kNan = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

std::vector<Case> Cases() {
  std::vector<Case> cases = {
      {"Valid", [](SeriesRecord&) {}, ""},
      {"NoPoints", [](SeriesRecord& s) { s.points.clear(); }, ""},
      {"NoMetadataNoUnit",
       [](SeriesRecord& s) {
         s.metadata.clear();
         s.unit.clear();
       },
       ""},
      {"NonAsciiId", [](SeriesRecord& s) { s.id = "modèle/日本語-😀"; }, ""},
      {"IdAtLimit", [](SeriesRecord& s) { s.id = std::string(256, 'x'); }, ""},
      {"ValueWithLineBreaks", [](SeriesRecord& s) { s.metadata["note"] = "a\tb\r\nc"; }, ""},
      {"EqualValuesAllowed", [](SeriesRecord& s) { s.points[5].value = s.points[4].value; }, ""},
      {"MaxPoints",
       [](SeriesRecord& s) {
         s.points.clear();
         for (int i = 0; i < 10000; ++i) s.points.push_back({double(i), 1});
       },
       ""},
      // id
      {"EmptyId", [](SeriesRecord& s) { s.id.clear(); }, "series[3].id: must not be empty"},
      {"LongId", [](SeriesRecord& s) { s.id = std::string(257, 'x'); },
       "series[3].id: must be at most 256 bytes, got 257"},
      {"IdNewline", [](SeriesRecord& s) { s.id = "a\nb"; },
       "series[3].id: must not contain control characters (U+000A at offset "
       "1)"},
      {"IdNul", [](SeriesRecord& s) { s.id = std::string("a\0b", 3); },
       "series[3].id: must not contain control characters"},
      {"IdTab", [](SeriesRecord& s) { s.id = "a\tb"; },
       "series[3].id: must not contain control characters"},
      {"IdDel", [](SeriesRecord& s) { s.id = "a\x7f"; },
       "series[3].id: must not contain control characters"},
      {"IdC1Control", [](SeriesRecord& s) { s.id = "a\xc2\x85"; },
       "series[3].id: must not contain control characters (U+0085"},
      {"IdInvalidByte", [](SeriesRecord& s) { s.id = "ab\xff"; },
       "series[3].id: must be valid UTF-8 (invalid byte 0xFF at offset 2)"},
      {"IdTruncatedSequence", [](SeriesRecord& s) { s.id = "ab\xc3"; },
       "series[3].id: must be valid UTF-8"},
      {"IdOverlong", [](SeriesRecord& s) { s.id = "\xc0\xaf"; },
       "series[3].id: must be valid UTF-8"},
      {"IdSurrogate", [](SeriesRecord& s) { s.id = "\xed\xa0\x80"; },
       "series[3].id: must be valid UTF-8"},
      {"IdAboveUnicode", [](SeriesRecord& s) { s.id = "\xf4\x90\x80\x80"; },
       "series[3].id: must be valid UTF-8"},
      // Shown reversed by a terminal (U+202E RIGHT-TO-LEFT OVERRIDE).
      {"IdBidiOverride", [](SeriesRecord& s) { s.id = "org/\u202Eflow"; },
       "series[3].id: must not contain invisible or bidirectional formatting characters "
       "(U+202E at offset 4)"},
      {"IdBidiIsolate", [](SeriesRecord& s) { s.id = "a\u2067b"; },
       "series[3].id: must not contain invisible or bidirectional formatting characters "
       "(U+2067"},
      {"IdZeroWidthSpace", [](SeriesRecord& s) { s.id = "meta-llama/\u200BLlama"; },
       "series[3].id: must not contain invisible or bidirectional formatting characters "
       "(U+200B"},
      {"IdByteOrderMark", [](SeriesRecord& s) { s.id = "\uFEFFid"; },
       "series[3].id: must not contain invisible"},
      {"IdLineSeparator", [](SeriesRecord& s) { s.id = "a\u2028b"; },
       "series[3].id: must not contain invisible"},
      {"IdTagCharacter", [](SeriesRecord& s) { s.id = "a\U000E0041"; },
       "series[3].id: must not contain invisible"},
      // Visible right-to-left text itself is fine, so are marks outside the list.
      {"IdHebrew", [](SeriesRecord& s) { s.id = "org/\u05E9\u05DC\u05D5\u05DD"; }, ""},
      {"BidiInMetadataValueAllowed", [](SeriesRecord& s) { s.metadata["note"] = "a\u202Eb"; }, ""},
      // unit
      {"LongUnit", [](SeriesRecord& s) { s.unit = std::string(65, 'u'); },
       "series[3].unit: must be at most 64 bytes, got 65"},
      {"UnitControl", [](SeriesRecord& s) { s.unit = "a\x01"; },
       "series[3].unit: must not contain control characters"},
      {"UnitInvalidUtf8", [](SeriesRecord& s) { s.unit = "\x80"; },
       "series[3].unit: must be valid UTF-8"},
      // metadata
      {"TooManyEntries",
       [](SeriesRecord& s) {
         s.metadata.clear();
         for (int i = 0; i < 65; ++i) s.metadata[absl::StrCat("k", i)] = "v";
       },
       "series[3].metadata: must have at most 64 entries, got 65"},
      {"EmptyKey", [](SeriesRecord& s) { s.metadata[""] = "v"; },
       "series[3].metadata[\"\"]: key must not be empty"},
      {"KeyWithSpace", [](SeriesRecord& s) { s.metadata["org name"] = "v"; },
       "series[3].metadata[\"org name\"]: key must contain only "
       "[A-Za-z0-9_.-]"},
      {"KeyNonAscii", [](SeriesRecord& s) { s.metadata["clé"] = "v"; },
       "series[3].metadata[\"clé\"]: key must contain only"},
      {"KeyWithQuote", [](SeriesRecord& s) { s.metadata["a\"b"] = "v"; },
       "series[3].metadata[\"a\\\"b\"]: key must contain only"},
      {"LongKey", [](SeriesRecord& s) { s.metadata[std::string(65, 'k')] = "v"; },
       "series[3].metadata[\"" + std::string(65, 'k') +
           "\"]: key must be at most 64 bytes, got 65"},
      {"LongValue", [](SeriesRecord& s) { s.metadata["org"] = std::string(4097, 'v'); },
       "series[3].metadata[\"org\"]: must be at most 4096 bytes, got 4097"},
      {"ValueInvalidUtf8", [](SeriesRecord& s) { s.metadata["org"] = "\xfe"; },
       "series[3].metadata[\"org\"]: must be valid UTF-8"},
      {"ValueControl", [](SeriesRecord& s) { s.metadata["org"] = "a\x1b[0m"; },
       "series[3].metadata[\"org\"]: must not contain control characters"},
      // points
      {"TooManyPoints",
       [](SeriesRecord& s) {
         s.points.clear();
         for (int i = 0; i < 10001; ++i) s.points.push_back({double(i), 1});
       },
       "series[3].points: must have at most 10000 points, got 10001"},
      {"NanValue", [](SeriesRecord& s) { s.points[7].value = kNan; },
       "series[3].points[7].value: must be finite, got nan"},
      {"NegativeNanValue", [](SeriesRecord& s) { s.points[7].value = -kNan; },
       "series[3].points[7].value: must be finite, got nan"},
      {"InfValue", [](SeriesRecord& s) { s.points[9].value = kInf; },
       "series[3].points[9].value: must be finite, got inf"},
      {"NanT", [](SeriesRecord& s) { s.points[2].t = kNan; },
       "series[3].points[2].t: must be finite, got nan"},
      {"MinusInfT", [](SeriesRecord& s) { s.points[0].t = -kInf; },
       "series[3].points[0].t: must be finite, got -inf"},
      {"NegativeT", [](SeriesRecord& s) { s.points[0].t = -1; },
       "series[3].points[0].t: must not be negative, got -1"},
      // The probe: t up to 1e308 was taken; forecasts then repeated the last t.
      {"HugeT", [](SeriesRecord& s) { s.points[9].t = 1e308; },
       "series[3].points[9].t: must be at most 10000 (months), got 1e+308"},
      {"TAtMax", [](SeriesRecord& s) { s.points[9].t = 10000; }, ""},
      {"TJustAboveMax", [](SeriesRecord& s) { s.points[9].t = 10000.5; },
       "series[3].points[9].t: must be at most 10000 (months), got 10000.5"},
      {"NegativeValue", [](SeriesRecord& s) { s.points[0].value = -0.5; },
       "series[3].points[0].value: must not be negative, got -0.5"},
      {"RepeatedT", [](SeriesRecord& s) { s.points[5].t = 4; },
       "series[3].points[5].t: must be strictly greater than the previous t "
       "(4)"},
      {"DecreasingT", [](SeriesRecord& s) { s.points[5].t = 3.5; },
       "series[3].points[5].t: must be strictly greater than the previous t "
       "(4)"},
      {"DecreasingValue",
       [](SeriesRecord& s) {
         s.points[4].value = 15;
         s.points[5].value = 12;
       },
       "series[3].points[5].value: cumulative values must not decrease (12 "
       "after 15)"},
      {"TinyDecreaseShownExactly",
       [](SeriesRecord& s) {
         s.points[4].value = 4.0000000000000009;
         s.points[5].value = 4;
       },
       "series[3].points[5].value: cumulative values must not decrease (4 "
       "after 4.0000000000000009)"},
  };
  SeriesLimits small;
  small.max_points = 3;
  small.max_id_bytes = 4;
  cases.push_back({"CustomMaxPoints", [](SeriesRecord& s) { s.id = "abcd"; },
                   "series[3].points: must have at most 3 points, got 10", small});
  cases.push_back({"CustomMaxIdBytes", [](SeriesRecord& s) { s.id = "abcde"; },
                   "series[3].id: must be at most 4 bytes, got 5", small});
  return cases;
}

// Names the case in test output instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ValidateSeriesTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateSeriesTest, CodeAndFieldPath) {
  const Case& c = GetParam();
  SeriesRecord s = ValidSeries();
  c.mutate(s);
  const absl::Status status = ValidateSeries(s, c.limits, "series[3]");
  if (c.message_prefix.empty()) {
    EXPECT_TRUE(status.ok()) << status;
  } else {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()), StartsWith(c.message_prefix));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, ValidateSeriesTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(ValidateSeriesTest, EmptyPrefixGivesBarePath) {
  SeriesRecord s = ValidSeries();
  s.points[1].value = kNan;
  EXPECT_THAT(std::string(ValidateSeries(s, SeriesLimits(), "").message()),
              StartsWith("points[1].value: must be finite"));
}

TEST(ValidateSeriesIdTest, ChecksTheIdAlone) {
  EXPECT_TRUE(ValidateSeriesId("meta-llama/Llama-2-7b", "id").ok());
  absl::Status empty = ValidateSeriesId("", "id");
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.message(), "id: must not be empty");
  absl::Status control = ValidateSeriesId("a\rb", "ids[2]");
  EXPECT_EQ(control.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(control.message()),
              StartsWith("ids[2]: must not contain control characters"));
  EXPECT_EQ(ValidateSeriesId(std::string(257, 'x'), "id").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ValidateFitterNameTest, PrintableBoundedNames) {
  EXPECT_TRUE(ValidateFitterName("citation", "fitter").ok());
  EXPECT_TRUE(ValidateFitterName("my-fitter.v2_B", "fitter").ok());
  EXPECT_TRUE(ValidateFitterName(std::string(64, 'a'), "fitter").ok());
  EXPECT_EQ(ValidateFitterName("", "fitters[1]").message(), "fitters[1]: must not be empty");
  // The probe's log forging: a name holding a newline and a log line.
  absl::Status forged =
      ValidateFitterName("x\nZ info event=rpc method=DeleteSeries code=OK", "fitter");
  EXPECT_EQ(forged.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(forged.message()),
              StartsWith("fitter: a fitter name is 1..64 characters of [A-Za-z0-9_.-], got "
                         "\"x\\nZ info event=rpc method=DeleteSeries code=OK\""));
  // 100 KB: refused with a short message that quotes 64 bytes of it.
  absl::Status huge = ValidateFitterName(std::string(100000, 'a'), "fitter");
  EXPECT_EQ(huge.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_LT(huge.message().size(), 250u);
  EXPECT_THAT(std::string(huge.message()), ::testing::HasSubstr("...\" (100000 bytes)"));
  EXPECT_EQ(ValidateFitterName("a b", "fitter").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateFitterName("caf\u00e9", "fitter").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateFitterOptionsTest, KeysAndValues) {
  EXPECT_TRUE(ValidateFitterOptions({}, "options").ok());
  EXPECT_TRUE(ValidateFitterOptions({{"m", "100"}, {"time_unit", "months"}}, "options").ok());
  EXPECT_TRUE(ValidateFitterOptions({{"note", "caf\u00e9 \u65e5\u672c"}}, "options").ok());
  EXPECT_EQ(ValidateFitterOptions({{"m", "1\n2"}}, "options").message(),
            "options[m]: must not contain control characters (U+000A at offset 1)");
  EXPECT_EQ(ValidateFitterOptions({{"m", "1\t"}}, "options").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ValidateFitterOptions({{"m", "\u202E1"}}, "options").message()),
              StartsWith("options[m]: must not contain invisible or bidirectional"));
  EXPECT_EQ(ValidateFitterOptions({{"m", std::string(257, '1')}}, "options").message(),
            "options[m]: must be at most 256 bytes, got 257");
  EXPECT_EQ(ValidateFitterOptions({{"m", "\xff"}}, "options").message(),
            "options[m]: must be valid UTF-8 (invalid byte 0xFF at offset 0)");
  EXPECT_EQ(ValidateFitterOptions({{"a\nb", "1"}}, "fitter_options[citation].options").message(),
            "fitter_options[citation].options: an option name is 1..64 characters of "
            "[A-Za-z0-9_.-], got \"a\\nb\"");
  EXPECT_EQ(ValidateFitterOptions({{"", "1"}}, "options").code(),
            absl::StatusCode::kInvalidArgument);
  std::map<std::string, std::string> many;
  for (int i = 0; i < 65; ++i) many[absl::StrCat("k", i)] = "1";
  EXPECT_EQ(ValidateFitterOptions(many, "options").message(),
            "options: must have at most 64 entries, got 65");
}

TEST(TextTest, DecodeUtf8AndInvisibleCharacters) {
  uint32_t cp = 0;
  EXPECT_EQ(DecodeUtf8("\u202E", 0, &cp), 3);
  EXPECT_EQ(cp, 0x202Eu);
  EXPECT_TRUE(IsInvisibleFormatCharacter(cp));
  EXPECT_EQ(DecodeUtf8("\xe2\x80", 0, &cp), 0);
  for (uint32_t c :
       {0x061Cu, 0x200Bu, 0x200Fu, 0x2029u, 0x202Au, 0x2066u, 0x2069u, 0xFEFFu, 0xE0020u}) {
    EXPECT_TRUE(IsInvisibleFormatCharacter(c)) << std::hex << c;
  }
  for (uint32_t c : {0x41u, 0x05D0u, 0x2010u, 0x2030u, 0x2065u, 0xFFFDu}) {
    EXPECT_FALSE(IsInvisibleFormatCharacter(c)) << std::hex << c;
  }
}

TEST(SeriesLimitsTest, ValidateRequiresPositiveLimits) {
  EXPECT_TRUE(SeriesLimits().Validate().ok());
  SeriesLimits limits;
  limits.max_value_bytes = 0;
  absl::Status status = limits.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("max_value_bytes:"));
  SeriesLimits no_t;
  no_t.max_t = 0;
  EXPECT_THAT(std::string(no_t.Validate().message()), StartsWith("max_t:"));
}

}  // namespace
}  // namespace adoption
