// NormalizePath: RFC 3986 5.2.4 dot segments, unreserved percent-decoding, merged slashes and the
// escaped-slash actions, as Envoy's normalize_path / merge_slashes / path_with_escaped_slashes_action.
#include "dataplane/http/path.h"

#include <gtest/gtest.h>

#include <string>

namespace hermes::dataplane::http {
namespace {

std::string Normal(std::string_view in, PathOptions o = {}) {
  std::string scratch;
  PathResult r = NormalizePath(in, o, scratch);
  return r.ok ? std::string(r.path) : "error: " + std::string(r.reason);
}

TEST(NormalizePathTest, LeavesANormalPathAloneWithoutCopying) {
  std::string scratch;
  std::string_view in = "/api/v1/users";
  PathResult r = NormalizePath(in, {}, scratch);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.path.data(), in.data());
}

TEST(NormalizePathTest, RemovesDotSegmentsAsRfc3986Does) {
  EXPECT_EQ(Normal("/a/b/c/./../../g"), "/a/g");  // RFC 3986 5.2.4's example
  EXPECT_EQ(Normal("/public/../admin/x"), "/admin/x");
  EXPECT_EQ(Normal("/a/."), "/a/");
  EXPECT_EQ(Normal("/a/b/.."), "/a/");
  EXPECT_EQ(Normal("/.."), "/");
  EXPECT_EQ(Normal("/../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(Normal("/a/..b/c"), "/a/..b/c");
  EXPECT_EQ(Normal("/a/.b"), "/a/.b");
}

TEST(NormalizePathTest, DecodesUnreservedEscapesBeforeRemovingDots) {
  EXPECT_EQ(Normal("/public/%2e%2e/admin"), "/admin");
  EXPECT_EQ(Normal("/public/%2E%2e/admin"), "/admin");
  EXPECT_EQ(Normal("/public/.%2E/admin"), "/admin");
  EXPECT_EQ(Normal("/%7Euser/%41"), "/~user/A");
}

TEST(NormalizePathTest, RefusesDotSegmentsWithParameters) {
  EXPECT_EQ(Normal("/public/..;/admin"), "error: dot segment with parameters in path");
  EXPECT_EQ(Normal("/public/.;x/admin"), "error: dot segment with parameters in path");
  EXPECT_EQ(Normal("/public/%2e%2e;jsessionid=1/admin"), "error: dot segment with parameters in path");
  EXPECT_EQ(Normal("/a/b;v=1/c"), "/a/b;v=1/c");
}

TEST(NormalizePathTest, UpperCasesOtherEscapes) {
  EXPECT_EQ(Normal("/caf%c3%a9"), "/caf%C3%A9");
  EXPECT_EQ(Normal("/a%20b"), "/a%20b");
  EXPECT_EQ(Normal("/nul%00"), "/nul%00");
}

TEST(NormalizePathTest, MergesSlashes) {
  EXPECT_EQ(Normal("//a///b//"), "/a/b/");
  PathOptions keep;
  keep.merge_slashes = false;
  EXPECT_EQ(Normal("//a//b", keep), "//a//b");
}

TEST(NormalizePathTest, RefusesEscapedSlashesAndBackslashesByDefault) {
  EXPECT_EQ(Normal("/a%2Fb"), "error: escaped slash or backslash in path");
  EXPECT_EQ(Normal("/a%2fb"), "error: escaped slash or backslash in path");
  EXPECT_EQ(Normal("/a%5cb"), "error: escaped slash or backslash in path");
  EXPECT_EQ(Normal("/a\\b"), "error: backslash in path");
}

TEST(NormalizePathTest, UnescapeMakesEscapedSlashesSeparators) {
  PathOptions o;
  o.escaped_slashes = EscapedSlashes::kUnescape;
  EXPECT_EQ(Normal("/public/x%2F..%2F..%2Fadmin", o), "/admin");
  EXPECT_EQ(Normal("/a%5C..%5Cb", o), "/b");
  EXPECT_EQ(Normal("/a\\b", o), "/a/b");
}

TEST(NormalizePathTest, KeepLeavesEscapedSlashesAsData) {
  PathOptions o;
  o.escaped_slashes = EscapedSlashes::kKeep;
  EXPECT_EQ(Normal("/public/..%2Fadmin", o), "/public/..%2Fadmin");
  EXPECT_EQ(Normal("/a%2fb", o), "/a%2Fb");
  EXPECT_EQ(Normal("/a\\b", o), "/a\\b");
}

TEST(NormalizePathTest, RefusesMalformedEscapesWhateverTheOptions) {
  PathOptions off;
  off.normalize = false;
  off.merge_slashes = false;
  off.escaped_slashes = EscapedSlashes::kKeep;
  for (const PathOptions& o : {PathOptions{}, off}) {
    EXPECT_EQ(Normal("/a%zz", o), "error: malformed percent-encoding in path");
    EXPECT_EQ(Normal("/a%4", o), "error: malformed percent-encoding in path");
    EXPECT_EQ(Normal("/a%", o), "error: malformed percent-encoding in path");
  }
}

TEST(NormalizePathTest, NormalizationOffKeepsDotsAndEscapesAsSent) {
  PathOptions o;
  o.normalize = false;
  o.merge_slashes = false;
  EXPECT_EQ(Normal("/a/../b/%2e%7e", o), "/a/../b/%2e%7e");
}

}  // namespace
}  // namespace hermes::dataplane::http
