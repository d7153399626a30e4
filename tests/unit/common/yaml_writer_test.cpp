// ToYaml: what the control plane shows of stored configs.
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include "hermes/common/config.h"
#include "hermes/v1/admin.pb.h"
#include "hermes/common/yaml_writer.h"

namespace hermes::config {
namespace {

TEST(YamlWriterTest, TheShippedExampleRoundTripsThroughYaml) {
  LoadResult loaded = LoadConfigFile(std::string(HERMES_SOURCE_DIR) + "/config/example.yaml");
  ASSERT_TRUE(loaded.ok());
  std::string yaml = ToYaml(loaded.config);
  LoadResult again = LoadConfigString(yaml, "rendered.yaml");
  for (const auto& e : again.errors) ADD_FAILURE() << e.ToString() << "\n" << yaml;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(loaded.config, again.config)) << yaml;
}

TEST(YamlWriterTest, DurationsEnumsAndStringsAreWrittenAsAUserWould) {
  LoadResult loaded = LoadConfigString(
      "clusters: [ { name: web, lb_policy: least_request, connect_timeout: 1500ms, "
      "endpoints: [ { address: \"a:1\" } ] } ]\n");
  ASSERT_TRUE(loaded.ok());
  std::string yaml = ToYaml(loaded.config);
  EXPECT_NE(yaml.find("lb_policy: least_request\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("connect_timeout: 1.5s\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  - name: \"web\"\n"), std::string::npos) << yaml;
}

TEST(YamlWriterTest, NumbersAreWrittenInTheirShortestExactForm) {
  v1::RolloutGate gate;
  gate.set_error_rate(1.2345678);
  gate.set_rest_error_rate(0.1);
  std::string yaml = ToYaml(gate);
  EXPECT_NE(yaml.find("error_rate: 1.2345678\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("rest_error_rate: 0.1\n"), std::string::npos) << yaml;
  gate.set_error_rate(1.2345679);
  EXPECT_NE(ToYaml(gate), yaml) << "configs that differ in a number must render differently";
}

}  // namespace
}  // namespace hermes::config
