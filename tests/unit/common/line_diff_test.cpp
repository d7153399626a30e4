// LineDiff: hunks as diff -u numbers them, a shortest edit script, and a bounded cost.
#include "hermes/common/line_diff.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace hermes::config {
namespace {

// "1\n2\n...\n<n>\n"
std::string Numbered(int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i) out += std::to_string(i) + "\n";
  return out;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// The diff's lines after its two header lines.
std::vector<std::string> Body(const std::string& diff) {
  std::vector<std::string> lines = SplitLines(diff);
  return lines.size() < 2 ? lines : std::vector<std::string>(lines.begin() + 2, lines.end());
}

TEST(LineDiffTest, IdenticalTextsHaveAnEmptyDiff) {
  EXPECT_EQ(LineDiff("x\n", "x\n", "a", "b"), "");
  EXPECT_EQ(LineDiff("", "", "a", "b"), "");
  EXPECT_EQ(LineDiff(Numbered(1, 100), Numbered(1, 100), "a", "b"), "");
}

TEST(LineDiffTest, AChangedLineHasItsContextAndAHunkHeader) {
  EXPECT_EQ(LineDiff("a\nb\nc\nd\n", "a\nb\nC\nd\n", "v1", "v2"),
            "--- v1\n+++ v2\n@@ -1,4 +1,4 @@\n a\n b\n-c\n+C\n d\n");
}

TEST(LineDiffTest, AChangeInTheMiddleShowsThreeLinesOfContextEachSide) {
  std::string to = Numbered(1, 4) + "five\n" + Numbered(6, 10);
  EXPECT_EQ(LineDiff(Numbered(1, 10), to, "v1", "v2"),
            "--- v1\n+++ v2\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(LineDiffTest, AnInsertAtTheStart) {
  EXPECT_EQ(LineDiff(Numbered(1, 6), "0\n" + Numbered(1, 6), "a", "b"),
            "--- a\n+++ b\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n");
}

TEST(LineDiffTest, ADeleteAtTheStart) {
  EXPECT_EQ(LineDiff(Numbered(1, 6), Numbered(2, 6), "a", "b"),
            "--- a\n+++ b\n@@ -1,4 +1,3 @@\n-1\n 2\n 3\n 4\n");
}

TEST(LineDiffTest, AnInsertInTheMiddle) {
  EXPECT_EQ(LineDiff(Numbered(1, 10), Numbered(1, 5) + "new\n" + Numbered(6, 10), "a", "b"),
            "--- a\n+++ b\n@@ -3,6 +3,7 @@\n 3\n 4\n 5\n+new\n 6\n 7\n 8\n");
}

TEST(LineDiffTest, ADeleteInTheMiddle) {
  EXPECT_EQ(LineDiff(Numbered(1, 10), Numbered(1, 4) + Numbered(6, 10), "a", "b"),
            "--- a\n+++ b\n@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n 8\n");
}

TEST(LineDiffTest, AnInsertAtTheEnd) {
  EXPECT_EQ(LineDiff(Numbered(1, 6), Numbered(1, 7), "a", "b"),
            "--- a\n+++ b\n@@ -4,3 +4,4 @@\n 4\n 5\n 6\n+7\n");
}

TEST(LineDiffTest, ADeleteAtTheEnd) {
  EXPECT_EQ(LineDiff(Numbered(1, 6), Numbered(1, 5), "a", "b"),
            "--- a\n+++ b\n@@ -3,4 +3,3 @@\n 3\n 4\n 5\n-6\n");
}

TEST(LineDiffTest, AChangeAtTheStartAndAtTheEnd) {
  EXPECT_EQ(LineDiff(Numbered(1, 3), "one\n" + Numbered(2, 3), "a", "b"),
            "--- a\n+++ b\n@@ -1,3 +1,3 @@\n-1\n+one\n 2\n 3\n");
  EXPECT_EQ(LineDiff(Numbered(1, 3), Numbered(1, 2) + "three\n", "a", "b"),
            "--- a\n+++ b\n@@ -1,3 +1,3 @@\n 1\n 2\n-3\n+three\n");
}

TEST(LineDiffTest, AHunkOfOneLineLeavesOutItsCount) {
  EXPECT_EQ(LineDiff("a\n", "b\n", "x", "y"), "--- x\n+++ y\n@@ -1 +1 @@\n-a\n+b\n");
}

TEST(LineDiffTest, AnEmptySideIsNumberedZero) {
  EXPECT_EQ(LineDiff("", "a\nb\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  EXPECT_EQ(LineDiff("a\n", "", "x", "y"), "--- x\n+++ y\n@@ -1 +0,0 @@\n-a\n");
}

TEST(LineDiffTest, ChangesSixLinesApartShareAHunkAndSevenApartDoNot) {
  // Lines 4 and 11 changed: 6 unchanged lines between them.
  std::string near = Numbered(1, 3) + "x\n" + Numbered(5, 10) + "y\n" + Numbered(12, 20);
  EXPECT_EQ(Body(LineDiff(Numbered(1, 20), near, "a", "b")).front(), "@@ -1,14 +1,14 @@");
  // Lines 4 and 12 changed: 7 unchanged lines between them.
  std::string far = Numbered(1, 3) + "x\n" + Numbered(5, 11) + "y\n" + Numbered(13, 20);
  std::vector<std::string> body = Body(LineDiff(Numbered(1, 20), far, "a", "b"));
  std::vector<std::string> headers;
  for (const auto& line : body)
    if (line.starts_with("@@")) headers.push_back(line);
  EXPECT_EQ(headers, (std::vector<std::string>{"@@ -1,7 +1,7 @@", "@@ -9,7 +9,7 @@"}));
}

// Applies `diff` (from LineDiff) to `from`, checking each hunk's header against its lines.
std::string Patch(const std::string& from, const std::string& diff) {
  std::vector<std::string> a = SplitLines(from);
  std::string out;
  std::size_t next = 0;  // the next line of `a` not yet copied
  for (const std::string& line : Body(diff)) {
    if (line.starts_with("@@")) {
      std::size_t start = std::stoul(line.substr(4));
      const std::size_t comma = line.find(',');
      const bool empty = comma < line.find(' ', 4) && line.substr(comma, 3) == ",0 ";
      std::size_t first = empty ? start : start - 1;
      while (next < first) out += a[next++] + "\n";
      continue;
    }
    if (line[0] == '+') {
      out += line.substr(1) + "\n";
    } else {
      EXPECT_EQ(a.at(next), line.substr(1));
      if (line[0] == ' ') out += a[next] + "\n";
      ++next;
    }
  }
  while (next < a.size()) out += a[next++] + "\n";
  return out;
}

// Lines removed plus added by a shortest edit script: n + m - 2 * LCS.
std::size_t ShortestEdits(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::vector<std::size_t>> lcs(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = a.size(); i-- > 0;)
    for (std::size_t j = b.size(); j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  return a.size() + b.size() - 2 * lcs[0][0];
}

TEST(LineDiffTest, RandomTextsGetAShortestDiffThatPatchesFromIntoTo) {
  std::mt19937 random(13);
  for (int round = 0; round < 500; ++round) {
    std::string from, to;
    const int n = static_cast<int>(random() % 30), m = static_cast<int>(random() % 30);
    for (int i = 0; i < n; ++i)
      from += std::string(1, static_cast<char>('a' + random() % 4)) + "\n";
    for (int i = 0; i < m; ++i) to += std::string(1, static_cast<char>('a' + random() % 4)) + "\n";
    const std::string diff = LineDiff(from, to, "a", "b");
    SCOPED_TRACE("from:\n" + from + "to:\n" + to + "diff:\n" + diff);
    std::size_t edits = 0;
    for (const auto& line : Body(diff))
      if (line[0] == '-' || line[0] == '+') ++edits;
    EXPECT_EQ(edits, ShortestEdits(SplitLines(from), SplitLines(to)));
    EXPECT_EQ(Patch(from, diff), to);
  }
}

TEST(LineDiffTest, ATenThousandLineTextWithAFewChangesGetsItsHunksOnly) {
  // 10,000 lines: the old O(n*m) table would have taken ~400 MB; this takes a few vectors of
  // 20,000 entries.
  const std::string from = Numbered(1, 10000);
  const std::string to = Numbered(1, 99) + "inserted\n" + Numbered(100, 4999) + "changed\n" +
                         Numbered(5001, 8999) + Numbered(9001, 10000);
  const std::string diff = LineDiff(from, to, "v1", "v2");
  EXPECT_EQ(diff,
            "--- v1\n+++ v2\n"
            "@@ -97,6 +97,7 @@\n 97\n 98\n 99\n+inserted\n 100\n 101\n 102\n"
            "@@ -4997,7 +4998,7 @@\n 4997\n 4998\n 4999\n-5000\n+changed\n 5001\n 5002\n 5003\n"
            "@@ -8997,7 +8998,6 @@\n 8997\n 8998\n 8999\n-9000\n 9001\n 9002\n 9003\n");
  EXPECT_EQ(Patch(from, diff), to);
}

TEST(LineDiffTest, UpToTheLimitOfChangedLinesTheDiffIsShown) {
  // 1,000 lines replaced: 2,000 changed lines, the limit.
  const std::string diff = LineDiff(Numbered(1, 1000), Numbered(1001, 2000), "a", "b");
  EXPECT_EQ(Body(diff).front(), "@@ -1,1000 +1,1000 @@");
  EXPECT_EQ(Body(diff).size(), 1u + 2 * 1000);
}

TEST(LineDiffTest, BeyondTheLimitOfChangedLinesItSaysSoInsteadOfADiff) {
  EXPECT_EQ(kMaxDiffLines, 2000u);
  EXPECT_EQ(LineDiff(Numbered(1, 1000), Numbered(1001, 2001), "a", "b"),
            "--- a\n+++ b\ndiff not shown: more than 2000 lines differ\n");
  // Also when the changes are spread out among unchanged lines.
  std::string from, to;
  for (int i = 0; i < 10000; ++i) {
    from += std::to_string(i) + "\n";
    to += (i % 4 == 0 ? "x" : "") + std::to_string(i) + "\n";
  }
  EXPECT_EQ(Body(LineDiff(from, to, "a", "b")),
            (std::vector<std::string>{"diff not shown: more than 2000 lines differ"}));
}

}  // namespace
}  // namespace hermes::config
