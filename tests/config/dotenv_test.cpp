#include <catch2/catch.hpp>

#include "config/dotenv.hpp"

using arbor::config::detail::parse_dotenv;
using arbor::config::detail::valid_env_name;
using vars = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("dotenv: KEY=VALUE lines in file order, comments and blanks skipped") {
  auto r = parse_dotenv("# comment\n\nB=2\nA=1\n  export C = three  \n");
  CHECK(r.errors.empty());
  CHECK(r.vars == vars{{"B", "2"}, {"A", "1"}, {"C", "three"}});
}

TEST_CASE("dotenv: quoted values") {
  auto r = parse_dotenv("S='a b # not a comment'  # comment\n"
                        "D=\"line\\nnext \\\"q\\\" \\$x\"\n"
                        "E=\n"
                        "U=value # trailing comment\n"
                        "H=a#b\n"
                        "W=\"\" \r\n");
  CHECK(r.errors.empty());
  CHECK(r.vars == vars{{"S", "a b # not a comment"},
                       {"D", "line\nnext \"q\" $x"},
                       {"E", ""},
                       {"U", "value"},
                       {"H", "a#b"},
                       {"W", ""}});
}

TEST_CASE("dotenv: every bad line is reported with its line number") {
  auto r = parse_dotenv("OK=1\nnot a pair\n1BAD=x\nQ='open\nR=\"open\nT='a' junk\nLAST=2");
  REQUIRE(r.errors.size() == 5);
  CHECK(r.errors[0].line == 2);
  CHECK_THAT(r.errors[0].message, Catch::Contains("expected KEY=VALUE, got 'not a pair'"));
  CHECK(r.errors[1].line == 3);
  CHECK_THAT(r.errors[1].message, Catch::Contains("invalid variable name '1BAD'"));
  CHECK(r.errors[2].line == 4);
  CHECK_THAT(r.errors[2].message, Catch::Contains("unterminated single quote"));
  CHECK(r.errors[3].line == 5);
  CHECK_THAT(r.errors[3].message, Catch::Contains("unterminated double quote"));
  CHECK(r.errors[4].line == 6);
  CHECK_THAT(r.errors[4].message, Catch::Contains("unexpected text after the closing quote"));
  CHECK(r.vars == vars{{"OK", "1"}, {"LAST", "2"}});
}

TEST_CASE("dotenv: variable names") {
  CHECK(valid_env_name("PATH"));
  CHECK(valid_env_name("_x1"));
  CHECK_FALSE(valid_env_name(""));
  CHECK_FALSE(valid_env_name("1A"));
  CHECK_FALSE(valid_env_name("A-B"));
  CHECK_FALSE(valid_env_name("A B"));
}
