#include <catch2/catch.hpp>

#include "config/shell_split.hpp"

using arbor::config::detail::shell_join;
using arbor::config::detail::shell_quote;
using arbor::config::detail::shell_split;
using words = std::vector<std::string>;

namespace {

words split(std::string_view text) {
  std::string error;
  auto r = shell_split(text, error);
  INFO(text << " → " << error);
  REQUIRE(r);
  return r->words;
}

std::string split_error(std::string_view text) {
  std::string error;
  auto r = shell_split(text, error);
  INFO(text);
  CHECK_FALSE(r);
  return error;
}

} // namespace

TEST_CASE("shell_split: whitespace separates words") {
  CHECK(split("node worker.js") == words{"node", "worker.js"});
  CHECK(split("  a \t b\nc  ") == words{"a", "b", "c"});
  CHECK(split("").empty());
  CHECK(split("   ").empty());
}

TEST_CASE("shell_split: single quotes are literal") {
  CHECK(split("echo 'a b'") == words{"echo", "a b"});
  CHECK(split(R"(echo 'a\"b\n $X')") == words{"echo", R"(a\"b\n $X)"});
  CHECK(split("echo ''") == words{"echo", ""});
  CHECK(split("echo a'b c'd") == words{"echo", "ab cd"});
}

TEST_CASE("shell_split: double quotes escape only \" \\ $ ` and newline") {
  CHECK(split(R"(echo "a b")") == words{"echo", "a b"});
  CHECK(split(R"(echo "a\"b")") == words{"echo", "a\"b"});
  CHECK(split(R"(echo "a\\b")") == words{"echo", "a\\b"});
  CHECK(split(R"(echo "\$HOME \`x\`")") == words{"echo", "$HOME `x`"});
  CHECK(split(R"(echo "a\nb")") == words{"echo", R"(a\nb)"});
  CHECK(split("echo \"a\\\nb\"") == words{"echo", "ab"});
  CHECK(split(R"(echo "")") == words{"echo", ""});
  CHECK(split(R"(echo "$HOME")") == words{"echo", "$HOME"}); // no expansion
  CHECK(split(R"(echo "it's")") == words{"echo", "it's"});
}

TEST_CASE("shell_split: backslash outside quotes escapes any character") {
  CHECK(split(R"(echo a\ b)") == words{"echo", "a b"});
  CHECK(split(R"(echo \'x\')") == words{"echo", "'x'"});
  CHECK(split(R"(echo \\)") == words{"echo", "\\"});
  CHECK(split("echo a\\\nb") == words{"echo", "ab"});
  CHECK(split("echo \\\n b") == words{"echo", "b"});
  CHECK(split("ls *.js ~") == words{"ls", "*.js", "~"}); // no globbing
}

TEST_CASE("shell_split: unterminated quotes and trailing backslash are errors") {
  CHECK_THAT(split_error("echo 'abc"), Catch::Contains("unterminated single quote (opened at character 6)"));
  CHECK_THAT(split_error("echo \"abc"), Catch::Contains("unterminated double quote (opened at character 6)"));
  CHECK_THAT(split_error(R"(echo "abc\")"), Catch::Contains("unterminated double quote"));
  CHECK_THAT(split_error("echo abc\\"), Catch::Contains("trailing backslash"));
}

TEST_CASE("shell_split: shell syntax that only a shell would act on is flagged") {
  struct flagged {
    const char* text;
    size_t at;
    const char* syntax;
  };
  const flagged cases[] = {
    {"cat a | grep b", 6, "|"},
    {"a && b", 2, "&&"},
    {"a;b", 1, ";"},
    {"run >out 2>&1", 4, ">"},
    {"node server.js --port $PORT", 22, "$PORT"},
    {"echo \"${HOME}\"", 6, "${"},
    {"echo $(date)", 5, "$("},
    {"echo \"`date`\"", 6, "`"},
    {"echo x `date`", 7, "`"},
  };
  for (const auto& c : cases) {
    std::string error;
    auto r = shell_split(c.text, error);
    INFO(c.text);
    REQUIRE(r);
    CHECK(r->shell_syntax_at == c.at);
    CHECK(r->shell_syntax == c.syntax);
  }
}

TEST_CASE("shell_split: quoted or escaped shell syntax is literal and not flagged") {
  std::string error;
  auto r = shell_split("echo '|' \"a>b\" \\; '$HOME' \\$X \"\\$Y\" 'a`b' ^x$ $ 100$", error);
  REQUIRE(r);
  CHECK(r->shell_syntax_at == std::string_view::npos);
  CHECK(r->shell_syntax.empty());
  CHECK(r->words == words{"echo", "|", "a>b", ";", "$HOME", "$X", "$Y", "a`b", "^x$", "$", "100$"});
}

TEST_CASE("shell_split: shell_join quotes so that splitting gives the words back") {
  words w{"node", "a b", "", "it's", "$HOME", "plain-arg=1"};
  auto joined = shell_join(w);
  CHECK(joined == R"(node 'a b' '' 'it'\''s' '$HOME' plain-arg=1)");
  CHECK(split(joined) == w);
  CHECK(shell_quote("x") == "x");
}
