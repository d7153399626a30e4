// `hermesctl completion bash`: the script names every command, subcommand and flag of the
// command table, bash accepts it, and (when bash is installed) it completes what it should.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ctl/command_table.h"
#include "ctl/completion.h"

namespace hermes::ctl {
namespace {

using ::testing::HasSubstr;

bool HaveBash() { return std::system("command -v bash >/dev/null 2>&1") == 0; }

// The script in a file of its own, removed at the end of the test.
class ScriptFile {
 public:
  ScriptFile()
      : path_(std::filesystem::temp_directory_path() /
              ("hermesctl-completion-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".bash")) {
    std::ofstream(path_) << BashCompletion();
  }
  ~ScriptFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Standard output of `command` run by bash.
std::string RunBash(const std::string& command) {
  const std::string line = "bash -c '" + command + "'";
  std::FILE* pipe = ::popen(line.c_str(), "r");
  if (!pipe) return "";
  std::string out;
  char buf[512];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

// What the script offers for the words of a command line (in bash syntax: "" is an empty word);
// the cursor is on the last word.
std::string Complete(const ScriptFile& script, const std::string& words) {
  return RunBash("source " + script.path() + "; COMP_WORDS=(hermesctl " + words +
                 "); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _hermesctl; "
                 "echo -n \"${COMPREPLY[*]}\"");
}

TEST(CompletionTest, NamesEveryCommandSubcommandAndFlagOfTheTable) {
  const std::string script = BashCompletion();
  for (const auto& command : Commands()) {
    const std::string name(command.name);
    EXPECT_THAT(script, HasSubstr("\"" + name + "\")")) << name;
    for (const auto& flag : command.flags) {
      EXPECT_THAT(script, HasSubstr(std::string(flag.name))) << name;
      if (!flag.short_name.empty()) {
        EXPECT_THAT(script, HasSubstr(std::string(flag.short_name))) << name;
      }
    }
  }
  for (const auto& flag : GlobalFlags()) EXPECT_THAT(script, HasSubstr(std::string(flag.name)));
  EXPECT_THAT(script, HasSubstr("table json yaml"));
  EXPECT_THAT(script, HasSubstr("complete -F _hermesctl hermesctl\n"));
}

TEST(CompletionTest, BashAcceptsTheScript) {
  if (!HaveBash()) GTEST_SKIP() << "no bash on this machine";
  ScriptFile script;
  EXPECT_EQ(std::system(("bash -n " + script.path()).c_str()), 0);
}

TEST(CompletionTest, CompletesCommandsSubcommandsFlagsAndFormats) {
  if (!HaveBash()) GTEST_SKIP() << "no bash on this machine";
  ScriptFile script;
  EXPECT_EQ(Complete(script, "ro"), "rollback rollout");
  EXPECT_EQ(Complete(script, "rollout st"), "start status");
  EXPECT_EQ(Complete(script, "rollout start 13 --st"), "--steps");
  EXPECT_EQ(Complete(script, "--server cp:9090 rollout pause --"),
            "--reason --author --server --output --token-file --timeout --help --version");
  EXPECT_EQ(Complete(script, "status -o y"), "yaml");
  // bash splits --output=j into --output, = and j.
  EXPECT_EQ(Complete(script, "status --output = j"), "json");
  EXPECT_EQ(Complete(script, "--output = json rollout \"\""),
            "start promote pause resume abort status list");
  EXPECT_EQ(Complete(script, "-o json get c"), "config");
  EXPECT_EQ(Complete(script, "completion \"\""), "bash");
  EXPECT_EQ(Complete(script, "help dr"), "drain");
  // After a flag that takes a value, nothing but that value.
  EXPECT_EQ(Complete(script, "rollout start 13 --interval \"\""), "");
}

TEST(CompletionTest, CompletesFilesAfterFilename) {
  if (!HaveBash()) GTEST_SKIP() << "no bash on this machine";
  ScriptFile script;
  const std::string dir = std::filesystem::path(script.path()).parent_path().string();
  const std::string base = std::filesystem::path(script.path()).filename().string();
  EXPECT_EQ(Complete(script, "apply -f " + dir + "/" + base.substr(0, base.size() - 3)),
            script.path());
}

}  // namespace
}  // namespace hermes::ctl
