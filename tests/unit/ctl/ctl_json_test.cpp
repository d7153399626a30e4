// The hand-built JSON of -o json and its YAML (-o yaml): exact text, key order as built.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ctl/json.h"
#include "golden.h"

namespace hermes::ctl {
namespace {

TEST(JsonTest, ScalarsAndNull) {
  EXPECT_EQ(Json().Dump(), "null\n");
  EXPECT_EQ(Json(true).Dump(), "true\n");
  EXPECT_EQ(Json(int64_t{-3}).Dump(), "-3\n");
  EXPECT_EQ(Json(uint64_t{18446744073709551615u}).Dump(), "18446744073709551615\n");
  EXPECT_EQ(Json("a\"b\n").Dump(), "\"a\\\"b\\n\"\n");
}

TEST(JsonTest, EmptyContainersStayOnOneLine) {
  EXPECT_EQ(Json::MakeArray().Dump(), "[]\n");
  EXPECT_EQ(Json::MakeObject().Dump(), "{}\n");
}

TEST(JsonTest, ObjectsKeepInsertionOrderAndIndentByTwo) {
  Json inner = Json::MakeArray();
  inner.Push(Json(uint64_t{1})).Push(Json("x"));
  Json j = Json::MakeObject();
  j.Set("zeta", Json(false)).Set("alpha", std::move(inner)).Set("empty", Json::MakeObject());
  EXPECT_EQ(j.Dump(), R"({
  "zeta": false,
  "alpha": [
    1,
    "x"
  ],
  "empty": {}
}
)");
}

TEST(JsonTest, FixedNumbersKeepTheirDecimals) {
  EXPECT_EQ(Json::Fixed(20, 3).Dump(), "20.000\n");
  EXPECT_EQ(Json::Fixed(0.0125, 4).Dump(), "0.0125\n");
  EXPECT_EQ(Json::Fixed(16.66666, 3).Dump(), "16.667\n");
  EXPECT_EQ(Json::Fixed(-0.00001, 3).Dump(), "0.000\n");
}

TEST(JsonTest, NonFiniteFixedNumbersAreNull) {
  EXPECT_EQ(Json::Fixed(std::numeric_limits<double>::quiet_NaN(), 3).Dump(), "null\n");
  EXPECT_EQ(Json::Fixed(std::numeric_limits<double>::infinity(), 3).Dump(), "null\n");
  EXPECT_EQ(Json::Fixed(-std::numeric_limits<double>::infinity(), 3).Dump(), "null\n");
}

TEST(JsonTest, CompactIsOneLine) {
  Json inner = Json::MakeArray();
  inner.Push(Json(uint64_t{1})).Push(Json("a b\n")).Push(Json::MakeObject());
  Json j = Json::MakeObject();
  j.Set("k", std::move(inner)).Set("n", Json()).Set("r", Json::Fixed(0.5, 4));
  EXPECT_EQ(j.DumpCompact(), "{\"k\":[1,\"a b\\n\",{}],\"n\":null,\"r\":0.5000}\n");
}

Json Strings(const std::vector<std::pair<std::string, std::string>>& members) {
  Json j = Json::MakeObject();
  for (const auto& [k, v] : members) j.Set(k, Json(v));
  return j;
}

// Strings YAML would read as something else, or not at all, unless quoted; and multi-line text.
TEST(YamlTest, TrickyStringsMatchGolden) {
  Json j = Strings({
      {"plain", "edge-1 in zone b"},
      {"empty", ""},
      {"leading_space", "  two spaces first"},
      {"trailing_space", "ends in a space "},
      {"colon_space", "key: value"},
      {"trailing_colon", "key:"},
      {"colon_inside", "http://api:8080/x"},
      {"address", "10.0.0.7:8080"},
      {"comment", "# not a comment"},
      {"space_hash", "a #b"},
      {"hash_inside", "a#b"},
      {"true", "true"},
      {"True", "True"},
      {"yes", "yes"},
      {"off", "Off"},
      {"null", "null"},
      {"tilde", "~"},
      {"integer", "12"},
      {"float", "1.5"},
      {"signed", "+1"},
      {"point", ".5"},
      {"infinity", ".inf"},
      {"version", "v12"},
      {"time", "2024-05-01T12:00:00Z"},
      {"dash", "- item"},
      {"lone_dash", "-"},
      {"flow", "[a, b]"},
      {"anchor", "&a"},
      {"quotes", "\"quoted\" and 'single'"},
      {"inner_quotes", "it's \"fine\""},
      {"backslash", "C:\\path"},
      {"unicode", "café ←"},
      {"tab", "a\tb"},
      {"bell", "bell\x07"},
      {"line_separator", "a\u2028b"},
      {"crlf", "a\r\nb"},
      {"one_line_break", "line\n"},
      {"two_lines", "first\nsecond"},
      {"trailing_breaks", "a\n\n"},
      {"leading_break", "\nafter"},
      {"indented_first_line", "  indented\nnot"},
      {"only_breaks", "\n\n"},
      {"key: with colon", "k"},
      {"", "empty key"},
  });
  EXPECT_EQ(j.DumpYaml(), Golden("yaml-tricky.yaml"));
}

TEST(YamlTest, NestedCollectionsAndScalars) {
  Json pairs = Json::MakeArray();
  Json first = Json::MakeArray();
  first.Push(Json("a")).Push(Json("b"));
  pairs.Push(std::move(first)).Push(Json::MakeArray());
  Json item = Json::MakeObject();
  item.Set("diff", Json("-a: 1\n+a: 2\n")).Set("labels", Json::MakeObject());
  Json items = Json::MakeArray();
  items.Push(std::move(item)).Push(Json("x\ny"));
  Json j = Json::MakeObject();
  j.Set("null", Json())
      .Set("bool", Json(false))
      .Set("negative", Json(int64_t{-3}))
      .Set("rate", Json::Fixed(0.0125, 4))
      .Set("nan", Json::Fixed(std::numeric_limits<double>::quiet_NaN(), 3))
      .Set("pairs", std::move(pairs))
      .Set("items", std::move(items));
  EXPECT_EQ(j.DumpYaml(),
            "\"null\": null\n"
            "bool: false\n"
            "negative: -3\n"
            "rate: 0.0125\n"
            "\"nan\": null\n"
            "pairs:\n"
            "  - - a\n"
            "    - b\n"
            "  - []\n"
            "items:\n"
            "  - diff: |\n"
            "      -a: 1\n"
            "      +a: 2\n"
            "    labels: {}\n"
            "  - |-\n"
            "    x\n"
            "    y\n");
}

TEST(YamlTest, TopLevelScalarsAndEmptyDocuments) {
  EXPECT_EQ(Json().DumpYaml(), "null\n");
  EXPECT_EQ(Json("true").DumpYaml(), "\"true\"\n");
  EXPECT_EQ(Json("a\nb").DumpYaml(), "|-\n  a\n  b\n");
  EXPECT_EQ(Json::MakeObject().DumpYaml(), "{}\n");
  EXPECT_EQ(Json::MakeArray().DumpYaml(), "[]\n");
}

}  // namespace
}  // namespace hermes::ctl
