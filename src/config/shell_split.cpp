// POSIX shell word splitting without expansion.

#include "config/shell_split.hpp"

namespace arbor::config::detail {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_operator(char c) { return c == '|' || c == '&' || c == ';' || c == '<' || c == '>'; }
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// Records the first piece of shell syntax at `i` (an operator run, `$name`,
/// `${`, `$(` or a backquote), if any and none was seen before.
void note_syntax(split_result& out, std::string_view text, size_t i, bool quoted) {
  if (out.shell_syntax_at != std::string_view::npos) return;
  char c = text[i];
  size_t end = i;
  if (!quoted && is_operator(c)) {
    while (end < text.size() && is_operator(text[end])) ++end;
  } else if (c == '`') {
    end = i + 1;
  } else if (c == '$' && i + 1 < text.size()) {
    char n = text[i + 1];
    if (n == '{' || n == '(') {
      end = i + 2;
    } else if (is_name_char(n)) {
      end = i + 1;
      while (end < text.size() && is_name_char(text[end])) ++end;
    }
  }
  if (end == i) return;
  out.shell_syntax_at = i;
  out.shell_syntax = std::string{text.substr(i, end - i)};
}

} // namespace

std::optional<split_result> shell_split(std::string_view text, std::string& error) {
  split_result out;
  std::string word;
  bool in_word = false; // a word has started (even if empty, e.g. '')
  size_t i = 0;
  auto finish = [&] {
    if (in_word) out.words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  while (i < text.size()) {
    char c = text[i];
    if (is_blank(c)) {
      finish();
      ++i;
    } else if (c == '\'') {
      auto close = text.find('\'', i + 1);
      if (close == std::string_view::npos) {
        error = "unterminated single quote (opened at character " + std::to_string(i + 1) + ")";
        return std::nullopt;
      }
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      auto open = i++;
      in_word = true;
      for (;;) {
        if (i >= text.size()) {
          error = "unterminated double quote (opened at character " + std::to_string(open + 1) + ")";
          return std::nullopt;
        }
        char d = text[i];
        if (d == '"') {
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < text.size()) {
          char e = text[i + 1];
          if (e == '"' || e == '\\' || e == '$' || e == '`') {
            word += e;
            i += 2;
            continue;
          }
          if (e == '\n') {
            i += 2;
            continue;
          }
        }
        note_syntax(out, text, i, true);
        word += d;
        ++i;
      }
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        error = "trailing backslash at the end of the command";
        return std::nullopt;
      }
      if (text[i + 1] != '\n') {
        word += text[i + 1];
        in_word = true;
      }
      i += 2;
    } else {
      note_syntax(out, text, i, false);
      word += c;
      in_word = true;
      ++i;
    }
  }
  finish();
  return out;
}

std::string shell_quote(std::string_view word) {
  if (word.empty()) return "''";
  bool plain = true;
  for (char c : word) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == ','
                || c == '+' || c == '@' || c == '%';
    if (!safe) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string{word};
  std::string out = "'";
  for (char c : word) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += shell_quote(w);
  }
  return out;
}

} // namespace arbor::config::detail
