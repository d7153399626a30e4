// ReadTokenFile and BearerTokenMatches: the one token-file format and Authorization check.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hermes/common/bearer_token.h"

namespace hermes {
namespace {

class TokenFileTest : public ::testing::Test {
 protected:
  TokenFileTest() {
    char pattern[] = "/tmp/hermes-token-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  ~TokenFileTest() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& text) {
    const std::string path = dir_ + "/token";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(TokenFileTest, SurroundingWhiteSpaceIsNotPartOfTheToken) {
  const Result<std::string> read = ReadTokenFile(Write(" \t abc def\r\n\n"));
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read.value(), "abc def");
}

TEST_F(TokenFileTest, ATrailingSpaceAndNewlineAreNotPartOfTheToken) {
  EXPECT_EQ(ReadTokenFile(Write("s3cret \n")).value(), "s3cret");
}

TEST(TrimmedTokenTest, TrimsTheWhiteSpaceATokenFileMayHave) {
  EXPECT_EQ(TrimmedToken(" \t s3cret \r\n"), "s3cret");
  EXPECT_EQ(TrimmedToken("a b"), "a b");
  EXPECT_EQ(TrimmedToken(" \n"), "");
}

TEST_F(TokenFileTest, AWhiteSpaceOnlyFileIsEmpty) {
  const std::string path = Write(" \n\t\r\n");
  EXPECT_EQ(ReadTokenFile(path).error(), "token file " + path + " is empty");
}

TEST_F(TokenFileTest, AMissingFileNamesTheFileAndTheReason) {
  const std::string path = dir_ + "/none";
  EXPECT_EQ(ReadTokenFile(path).error(), "cannot read token file " + path + ": No such file or directory");
}

TEST_F(TokenFileTest, ADirectoryIsUnreadable) {
  EXPECT_EQ(ReadTokenFile(dir_).error(), "cannot read token file " + dir_ + ": Is a directory");
}

TEST_F(TokenFileTest, AFileOver64KiBIsRefused) {
  const std::string path = Write(std::string(65537, 'x'));
  EXPECT_EQ(ReadTokenFile(path).error(), "token file " + path + " is larger than 65536 bytes");
}

TEST(BearerTokenTest, MatchesTheBearerSchemeInAnyCase) {
  EXPECT_TRUE(BearerTokenMatches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(BearerTokenMatches("bearer s3cret", "s3cret"));
  EXPECT_TRUE(BearerTokenMatches("BEARER s3cret", "s3cret"));
}

TEST(BearerTokenTest, RefusesAnyOtherValue) {
  EXPECT_FALSE(BearerTokenMatches("", "s3cret"));
  EXPECT_FALSE(BearerTokenMatches("s3cret", "s3cret"));
  EXPECT_FALSE(BearerTokenMatches("Bearer", "s3cret"));
  EXPECT_FALSE(BearerTokenMatches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(BearerTokenMatches("Bearer s3cretx", "s3cret"));
  EXPECT_FALSE(BearerTokenMatches("Bearer S3CRET", "s3cret"));
  EXPECT_FALSE(BearerTokenMatches("Basic czNjcmV0", "s3cret"));
  EXPECT_FALSE(BearerTokenMatches("Bearers3cret", "s3cret"));
}

}  // namespace
}  // namespace hermes
