// Plain text tables: column widths, alignment, truncation.
#include <gtest/gtest.h>

#include "ctl/table.h"

namespace hermes::ctl {
namespace {

TEST(TableTest, ColumnsAreAsWideAsTheirWidestCell) {
  const Table t{{"ID", "AUTHOR", "MESSAGE"}, {{"12", "ana", "first"}, {"3", "bartholomew", "x"}}};
  EXPECT_EQ(RenderTable(t),
            "ID   AUTHOR        MESSAGE\n"
            "12   ana           first\n"
            "3    bartholomew   x\n");
}

TEST(TableTest, LastColumnHasNoTrailingSpaces) {
  const Table t{{"A", "B"}, {{"x", ""}, {"y", "long value"}}};
  EXPECT_EQ(RenderTable(t),
            "A   B\n"
            "x\n"
            "y   long value\n");
}

TEST(TableTest, EmptyTableIsItsHeader) {
  EXPECT_EQ(RenderTable(Table{{"NODE", "STATE"}, {}}), "NODE   STATE\n");
}

TEST(TableTest, MultiByteCharactersTakeOneColumn) {
  const Table t{{"AUTHOR", "X"}, {{"José", "1"}}};
  EXPECT_EQ(RenderTable(t),
            "AUTHOR   X\n"
            "José     1\n");
}

TEST(TableTest, TruncateKeepsShortTextWhole) { EXPECT_EQ(Truncate("short", 5), "short"); }

TEST(TableTest, TruncateEndsLongTextInAnEllipsis) {
  EXPECT_EQ(Truncate("upstream connect error", 10), "upstrea...");
}

TEST(TableTest, TruncateMakesOneLine) { EXPECT_EQ(Truncate("a\nb\tc", 10), "a b c"); }

TEST(TableTest, TruncateNeverSplitsAMultiByteCharacter) { EXPECT_EQ(Truncate("ééééé", 4), "é..."); }

TEST(TableTest, DisplayWidthCountsCodePoints) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("é"), 1u);
}

}  // namespace
}  // namespace hermes::ctl
