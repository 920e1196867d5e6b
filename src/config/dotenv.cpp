// Parser for dotenv files.

#include "config/dotenv.hpp"

namespace arbor::config::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// Only whitespace or a `#` comment may follow a closing quote.
bool only_comment(std::string_view rest) {
  rest = trim(rest);
  return rest.empty() || rest.front() == '#';
}

} // namespace

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (digit && i > 0))) return false;
  }
  return true;
}

dotenv_result parse_dotenv(std::string_view text) {
  dotenv_result out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    auto fail = [&](std::string message) { out.errors.push_back({line_no, std::move(message)}); };

    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export " || line.substr(0, 7) == "export\t") line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      fail("expected KEY=VALUE, got '" + std::string{line} + "'");
      continue;
    }
    auto key = trim(line.substr(0, eq));
    if (!valid_env_name(key)) {
      fail("invalid variable name '" + std::string{key} + "'");
      continue;
    }
    auto raw = trim(line.substr(eq + 1));
    std::string value;
    if (!raw.empty() && raw.front() == '\'') {
      auto close = raw.find('\'', 1);
      if (close == std::string_view::npos) {
        fail("unterminated single quote in the value of " + std::string{key});
        continue;
      }
      if (!only_comment(raw.substr(close + 1))) {
        fail("unexpected text after the closing quote of " + std::string{key});
        continue;
      }
      value = raw.substr(1, close - 1);
    } else if (!raw.empty() && raw.front() == '"') {
      size_t i = 1;
      bool closed = false;
      for (; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i + 1 < raw.size()) {
          char e = raw[++i];
          switch (e) {
          case 'n': value += '\n'; break;
          case 't': value += '\t'; break;
          case 'r': value += '\r'; break;
          case '"': case '\\': case '$': case '\'': value += e; break;
          default: value += '\\'; value += e; break;
          }
          continue;
        }
        value += c;
      }
      if (!closed) {
        fail("unterminated double quote in the value of " + std::string{key});
        continue;
      }
      if (!only_comment(raw.substr(i + 1))) {
        fail("unexpected text after the closing quote of " + std::string{key});
        continue;
      }
    } else {
      // Unquoted: a '#' after whitespace starts a comment.
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '#' && i > 0 && is_space(raw[i - 1])) {
          raw = trim(raw.substr(0, i));
          break;
        }
      }
      value = raw;
    }
    out.vars.emplace_back(std::string{key}, std::move(value));
  }
  return out;
}

} // namespace arbor::config::detail
