// Go-style duration text, and conversion to and from google.protobuf.Duration.
#include "hermes/common/duration.h"

#include <gtest/gtest.h>

namespace hermes {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

TEST(ParseDurationTest, ReadsEachUnit) {
  EXPECT_EQ(ParseDuration("7ns"), nanoseconds(7));
  EXPECT_EQ(ParseDuration("250us"), 250us);
  EXPECT_EQ(ParseDuration("250\u00b5s"), 250us);
  EXPECT_EQ(ParseDuration("250\u03bcs"), 250us);
  EXPECT_EQ(ParseDuration("500ms"), 500ms);
  EXPECT_EQ(ParseDuration("2s"), 2s);
  EXPECT_EQ(ParseDuration("3m"), 3min);
  EXPECT_EQ(ParseDuration("1h"), 1h);
}

TEST(ParseDurationTest, AddsComponents) {
  EXPECT_EQ(ParseDuration("1m30s"), 90s);
  EXPECT_EQ(ParseDuration("1h2m3s4ms"), 1h + 2min + 3s + 4ms);
}

TEST(ParseDurationTest, ReadsFractions) {
  EXPECT_EQ(ParseDuration("1.5s"), 1500ms);
  EXPECT_EQ(ParseDuration("0.25h"), 15min);
  EXPECT_EQ(ParseDuration(".5s"), 500ms);
}

TEST(ParseDurationTest, AcceptsZeroWithOrWithoutUnit) {
  EXPECT_EQ(ParseDuration("0"), 0s);
  EXPECT_EQ(ParseDuration("0s"), 0s);
}

TEST(ParseDurationTest, RejectsEmptyText) { EXPECT_EQ(ParseDuration(""), std::nullopt); }

TEST(ParseDurationTest, RejectsNegativeDurations) { EXPECT_EQ(ParseDuration("-1s"), std::nullopt); }

TEST(ParseDurationTest, RejectsNumbersWithoutUnit) {
  EXPECT_EQ(ParseDuration("10"), std::nullopt);
  EXPECT_EQ(ParseDuration("1s5"), std::nullopt);
}

TEST(ParseDurationTest, RejectsUnknownUnitsAndGarbage) {
  EXPECT_EQ(ParseDuration("10d"), std::nullopt);
  EXPECT_EQ(ParseDuration("s"), std::nullopt);
  EXPECT_EQ(ParseDuration("1 s"), std::nullopt);
  EXPECT_EQ(ParseDuration(" 1s"), std::nullopt);
  EXPECT_EQ(ParseDuration("."), std::nullopt);
  EXPECT_EQ(ParseDuration(".s"), std::nullopt);
}

TEST(ParseDurationTest, RejectsOverflow) {
  EXPECT_EQ(ParseDuration("2562047h"), 2562047h);
  EXPECT_EQ(ParseDuration("2562048h"), std::nullopt);
  EXPECT_EQ(ParseDuration("9223372036854775808ns"), std::nullopt);
  EXPECT_EQ(ParseDuration("99999999999999999999s"), std::nullopt);
  EXPECT_EQ(ParseDuration("2562047h2562047h"), std::nullopt);
}

TEST(FormatDurationTest, WritesZeroAsZeroSeconds) { EXPECT_EQ(FormatDuration(0s), "0s"); }

TEST(FormatDurationTest, SplitsIntoHoursMinutesSeconds) {
  EXPECT_EQ(FormatDuration(90s), "1m30s");
  EXPECT_EQ(FormatDuration(1h), "1h");
  EXPECT_EQ(FormatDuration(1h + 5s), "1h5s");
  EXPECT_EQ(FormatDuration(2h + 30min), "2h30m");
}

TEST(FormatDurationTest, UsesTheLargestUnitBelowOneSecond) {
  EXPECT_EQ(FormatDuration(1500us), "1.5ms");
  EXPECT_EQ(FormatDuration(500ms), "500ms");
  EXPECT_EQ(FormatDuration(250us), "250us");
  EXPECT_EQ(FormatDuration(nanoseconds(1500)), "1.5us");
  EXPECT_EQ(FormatDuration(nanoseconds(7)), "7ns");
}

TEST(FormatDurationTest, KeepsEveryDigitOfFractionalSeconds) {
  EXPECT_EQ(FormatDuration(1500ms), "1.5s");
  EXPECT_EQ(FormatDuration(1s + nanoseconds(1)), "1.000000001s");
  EXPECT_EQ(FormatDuration(1min + 500ms), "1m0.5s");
}

TEST(FormatDurationTest, MarksNegativeDurations) { EXPECT_EQ(FormatDuration(-2s), "-2s"); }

TEST(FormatDurationTest, RoundTripsThroughParse) {
  for (nanoseconds d : {nanoseconds(1), nanoseconds(999), nanoseconds(1001), nanoseconds(123456789),
                        nanoseconds(90'000'000'001), nanoseconds(3'600'000'000'000)}) {
    EXPECT_EQ(ParseDuration(FormatDuration(d)), d) << FormatDuration(d);
  }
}

TEST(DurationProtoTest, ConvertsToProtoSecondsAndNanos) {
  google::protobuf::Duration proto = ToProto(1500ms);
  EXPECT_EQ(proto.seconds(), 1);
  EXPECT_EQ(proto.nanos(), 500'000'000);
}

TEST(DurationProtoTest, GivesBothProtoPartsTheSignOfTheWhole) {
  google::protobuf::Duration proto = ToProto(-1500ms);
  EXPECT_EQ(proto.seconds(), -1);
  EXPECT_EQ(proto.nanos(), -500'000'000);
}

TEST(DurationProtoTest, ConvertsFromProto) {
  google::protobuf::Duration proto;
  proto.set_seconds(2);
  proto.set_nanos(5);
  EXPECT_EQ(ToChrono(proto), 2s + nanoseconds(5));
}

TEST(DurationProtoTest, SaturatesProtoDurationsBeyondNanosecondRange) {
  google::protobuf::Duration proto;
  proto.set_seconds(315'576'000'000);  // 10000 years, the largest valid Duration
  EXPECT_EQ(ToChrono(proto), nanoseconds::max());
  proto.set_seconds(-315'576'000'000);
  EXPECT_EQ(ToChrono(proto), nanoseconds::min());
}

}  // namespace
}  // namespace hermes
