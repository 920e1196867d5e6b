#include "journal/journal.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <tuple>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/journal_json.hpp"
#include "journal/journal_log.hpp"

namespace arbor::journal {

using json = detail::json;

bool instance_record::operator==(const instance_record& o) const {
  return std::tie(app, index, pid, start_time, started_unix_ms, restarts, state, want_up, ready,
                  last_exit, generation)
         == std::tie(o.app, o.index, o.pid, o.start_time, o.started_unix_ms, o.restarts, o.state,
                     o.want_up, o.ready, o.last_exit, o.generation);
}

bool journal::operator==(const journal& o) const {
  return std::tie(version, daemon_pid, config, scale, instances)
         == std::tie(o.version, o.daemon_pid, o.config, o.scale, o.instances);
}

std::string encode(const journal& j, uint64_t log_epoch) {
  json doc;
  doc["version"] = j.version;
  doc["daemon_pid"] = j.daemon_pid;
  doc["config"] = j.config;
  if (log_epoch != 0)
    doc["log_epoch"] = log_epoch;
  doc["scale"] = json::object();
  for (auto& [app, n] : j.scale)
    doc["scale"][app] = n;
  json list = json::array();
  for (auto& r : j.instances) {
    json o = json::object();
    detail::put_record(o, r);
    list.push_back(std::move(o));
  }
  doc["instances"] = std::move(list);
  return detail::dump_line(doc);
}

namespace {

/// The scale table: app -> instances.
void scale_field(const json& obj, std::map<std::string, uint32_t>& out) {
  auto it = obj.find("scale");
  if (it == obj.end())
    return;
  if (!it->is_object())
    throw std::runtime_error("journal: scale: not an object");
  for (auto& [app, n] : it->items())
    detail::field(*it, app.c_str(), out[app], "journal: scale.");
}

} // namespace

std::optional<journal> decode(std::string_view text, std::string& err, uint64_t* log_epoch) {
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) {
    err = "journal: not valid JSON";
    return std::nullopt;
  }
  if (!doc.is_object()) {
    err = "journal: not a JSON object";
    return std::nullopt;
  }
  try {
    journal j;
    detail::field(doc, "version", j.version, "journal: ", true);
    if (j.version < 1 || j.version > 1)
      throw std::runtime_error("journal: version " + std::to_string(j.version)
                               + " is not supported (this arbor reads version 1)");
    detail::field(doc, "daemon_pid", j.daemon_pid, "journal: ");
    detail::field(doc, "config", j.config, "journal: ");
    uint64_t epoch = 0;
    detail::field(doc, "log_epoch", epoch, "journal: ");
    scale_field(doc, j.scale);
    auto it = doc.find("instances");
    if (it != doc.end()) {
      if (!it->is_array())
        throw std::runtime_error("journal: instances: not an array");
      for (size_t i = 0; i < it->size(); ++i) {
        const json& o = (*it)[i];
        std::string where = "journal: instances[" + std::to_string(i) + "].";
        if (!o.is_object())
          throw std::runtime_error(where.substr(0, where.size() - 1) + ": not an object");
        j.instances.push_back(detail::get_record(o, where));
      }
    }
    if (log_epoch)
      *log_epoch = epoch;
    return j;
  } catch (const std::exception& e) {
    err = e.what();
    return std::nullopt;
  }
}

bool write_atomic(const std::string& path, const journal& j, std::string& err, bool sync,
                  uint64_t log_epoch) {
  std::string text;
  return encode_to(j, log_epoch, text, err) && detail::write_file_atomic(path, text, err, sync);
}

bool encode_to(const journal& j, uint64_t log_epoch, std::string& text, std::string& err) {
  try {
    text = encode(j, log_epoch);
    return true;
  } catch (const std::exception& e) { // bad_alloc
    err = std::string{"journal: "} + e.what();
    return false;
  }
}

std::optional<journal> read_journal(const std::string& path, std::string& err) {
  err.clear();
  std::string text;
  bool missing = false;
  try {
    if (!detail::read_file(path, text, err, &missing))
      return std::nullopt; // missing: err stays empty
    uint64_t epoch = 0;
    auto j = decode(text, err, &epoch);
    if (!j) {
      err = path + ": " + err;
      return j;
    }
    if (epoch == 0)
      return j; // a snapshot that stands alone
    const std::string log = log_path(path);
    if (!detail::read_file(log, text, err, &missing)) {
      if (!missing) // unreadable: the snapshot is all there is
        err += " (the changes logged after the snapshot are lost)";
      return j;
    }
    std::string why;
    replay_log(text, epoch, *j, why);
    if (!why.empty())
      err = log + ":" + why;
    return j;
  } catch (const std::exception& e) { // bad_alloc
    err = path + ": " + e.what();
    return std::nullopt;
  }
}

std::optional<proc_stat> parse_proc_stat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos || text.find('(') > close)
    return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // Fields from 3 (state) on, separated by single spaces.
  proc_stat out;
  int field_no = 2;
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ')
      ++pos;
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos)
      end = rest.size();
    if (end == pos)
      break;
    std::string_view tok = rest.substr(pos, end - pos);
    ++field_no;
    if (field_no == 3) {
      if (tok.size() != 1)
        return std::nullopt;
      out.state = tok[0];
    } else if (field_no == 22) {
      uint64_t v = 0;
      for (char c : tok) {
        if (c == '\n')
          break;
        if (c < '0' || c > '9')
          return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
      out.start_time = v;
      return out;
    }
    pos = end;
  }
  return std::nullopt;
}

namespace {

/// Reads and parses /proc/<pid>/stat; nullopt if there is no such process.
std::optional<proc_stat> read_stat(pid_t pid) {
  if (pid <= 0)
    return std::nullopt;
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  // The kernel formats the whole line in one read; 1 KiB is far past field 22
  // even with a 64-byte comm and 20-digit numbers.
  char buf[1024];
  ssize_t n;
  do
    n = ::read(fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n <= 0) // ESRCH: it exited between open and read
    return std::nullopt;
  return parse_proc_stat(std::string_view{buf, static_cast<size_t>(n)});
}

} // namespace

std::optional<uint64_t> proc_start_time(pid_t pid) {
  auto st = read_stat(pid);
  if (!st)
    return std::nullopt;
  return st->start_time;
}

bool same_process(pid_t pid, uint64_t start_time) {
  auto st = read_stat(pid);
  return st && st->state != 'Z' && st->state != 'X' && st->state != 'x'
         && st->start_time == start_time;
}

} // namespace arbor::journal
