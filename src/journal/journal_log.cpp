#include "journal/journal_log.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

#include "journal/journal_json.hpp"

namespace arbor::journal {

using detail::json;

namespace {

using key = std::pair<std::string, uint32_t>;
using record_map = std::map<key, instance_record>;

/// The parts of a journal a change touches, with the records by key.
struct state {
  journal& j;
  record_map records;
};

void apply(state& st, const journal_change& c) {
  switch (c.what) {
    case journal_change::op::put:
      st.records[{c.record.app, c.record.index}] = c.record;
      break;
    case journal_change::op::erase:
      st.records.erase({c.record.app, c.record.index});
      break;
    case journal_change::op::erase_app: {
      auto first = st.records.lower_bound({c.record.app, 0});
      auto last = first;
      while (last != st.records.end() && last->first.first == c.record.app)
        ++last;
      st.records.erase(first, last);
      st.j.scale.erase(c.record.app);
      break;
    }
    case journal_change::op::scale:
      st.j.scale[c.record.app] = c.n;
      break;
    case journal_change::op::meta:
      st.j.daemon_pid = c.daemon_pid;
      st.j.config = c.config;
      break;
  }
}

/// One log line (without '\n') as a change. Throws std::runtime_error.
journal_change decode_change(std::string_view line) {
  json doc = json::parse(line.begin(), line.end(), nullptr, false);
  if (doc.is_discarded())
    throw std::runtime_error("not valid JSON");
  if (!doc.is_object())
    throw std::runtime_error("not a JSON object");
  std::string op;
  detail::field(doc, "op", op, "", true);
  journal_change c;
  if (op == "put") {
    c.what = journal_change::op::put;
    c.record = detail::get_record(doc, "put: ");
  } else if (op == "erase") {
    c.what = journal_change::op::erase;
    detail::field(doc, "app", c.record.app, "erase: ", true);
    detail::field(doc, "index", c.record.index, "erase: ", true);
  } else if (op == "erase_app") {
    c.what = journal_change::op::erase_app;
    detail::field(doc, "app", c.record.app, "erase_app: ", true);
  } else if (op == "scale") {
    c.what = journal_change::op::scale;
    detail::field(doc, "app", c.record.app, "scale: ", true);
    detail::field(doc, "n", c.n, "scale: ", true);
  } else if (op == "meta") {
    c.what = journal_change::op::meta;
    detail::field(doc, "daemon_pid", c.daemon_pid, "meta: ", true);
    detail::field(doc, "config", c.config, "meta: ", true);
  } else {
    throw std::runtime_error("unknown op \"" + op + "\"");
  }
  return c;
}

/// True if `line` is the header of the log of snapshot epoch `epoch`.
bool header_names(std::string_view line, uint64_t epoch, std::string& err) {
  json doc = json::parse(line.begin(), line.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return false;
  try {
    int version = 0;
    uint64_t e = 0;
    detail::field(doc, "journal_log", version, "", true);
    detail::field(doc, "epoch", e, "", true);
    if (version != 1) {
      err = "1: log version " + std::to_string(version)
            + " is not supported (this arbor reads version 1): the log is ignored";
      return false;
    }
    return e == epoch;
  } catch (const std::exception&) {
    return false; // not a header: not this snapshot's log
  }
}

} // namespace

std::string log_path(const std::string& path) {
  return path + ".log";
}

std::string encode_log_header(uint64_t epoch) {
  json doc = json::object();
  doc["journal_log"] = 1;
  doc["epoch"] = epoch;
  return detail::dump_line(doc);
}

void encode_change(const journal_change& c, std::string& out) {
  json doc = json::object();
  switch (c.what) {
    case journal_change::op::put:
      doc["op"] = "put";
      detail::put_record(doc, c.record);
      break;
    case journal_change::op::erase:
      doc["op"] = "erase";
      doc["app"] = c.record.app;
      doc["index"] = c.record.index;
      break;
    case journal_change::op::erase_app:
      doc["op"] = "erase_app";
      doc["app"] = c.record.app;
      break;
    case journal_change::op::scale:
      doc["op"] = "scale";
      doc["app"] = c.record.app;
      doc["n"] = c.n;
      break;
    case journal_change::op::meta:
      doc["op"] = "meta";
      doc["daemon_pid"] = c.daemon_pid;
      doc["config"] = c.config;
      break;
  }
  out += detail::dump_line(doc);
}

void apply_change(journal& j, const journal_change& c) {
  state st{j, {}};
  for (auto& r : j.instances)
    st.records[{r.app, r.index}] = r;
  apply(st, c);
  j.instances.clear();
  for (auto& kv : st.records)
    j.instances.push_back(std::move(kv.second));
}

replay_result replay_log(std::string_view text, uint64_t epoch, journal& j, std::string& err) {
  replay_result res;
  err.clear();
  auto eol = text.find('\n');
  if (eol == std::string_view::npos || !header_names(text.substr(0, eol), epoch, err))
    return res; // another snapshot's log (a compaction was cut short), or none
  res.matched = true;
  journal out = j; // `j` changes only once the replay is done
  state st{out, {}};
  for (auto& r : out.instances)
    st.records[{r.app, r.index}] = r;
  size_t pos = eol + 1;
  size_t line_no = 1;
  while (pos < text.size()) {
    ++line_no;
    eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      res.torn = true; // a writer killed mid-append: the burst's tail never was
      break;
    }
    try {
      apply(st, decode_change(text.substr(pos, eol - pos)));
      ++res.applied;
    } catch (const std::runtime_error& e) {
      err = std::to_string(line_no) + ": " + e.what() + " (it and the "
            + std::to_string(text.size() - pos) + " byte(s) from it on are ignored)";
      break;
    }
    pos = eol + 1;
  }
  out.instances.clear();
  out.instances.reserve(st.records.size());
  for (auto& kv : st.records)
    out.instances.push_back(std::move(kv.second));
  j = std::move(out);
  return res;
}

} // namespace arbor::journal
