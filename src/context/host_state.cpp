// HostState implementation: LRU maps of processes and files, per-process
// rings of modules and connections.
#include "context/host_state.h"

#include <array>
#include <charconv>
#include <deque>

#include "core/codec.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/value.h"

namespace vigil {
namespace {

// The text of a value (the first of an array; numbers as integers), as a
// view into the event or into `buf` (numbers).
std::string_view view_of(const Value& v, std::array<char, 24>& buf) {
  if (v.kind() == ValueKind::Array) return v.as_array().empty() ? std::string_view() : view_of(v.as_array()[0], buf);
  if (v.is_text()) return v.as_string();
  std::int64_t n;
  if (v.kind() == ValueKind::Int) {
    n = v.as_int();
  } else if (v.kind() == ValueKind::Float) {
    n = static_cast<std::int64_t>(v.as_float());
  } else {
    return {};
  }
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), n);
  return ec == std::errc() ? std::string_view(buf.data(), static_cast<std::size_t>(end - buf.data())) : std::string_view();
}

std::string text_of(const Value& v) {
  std::array<char, 24> buf;
  return std::string(view_of(v, buf));
}

// Sets `field` to the value's text unless it already has one.
void fill(std::string& field, const Value& v) {
  if (!field.empty()) return;
  std::array<char, 24> buf;
  field.assign(view_of(v, buf));
}

bool has_text(const Value& v, std::string_view wanted) {
  if (v.kind() == ValueKind::Array) {
    for (const Value& x : v.as_array()) {
      if (x.is_text() && x.as_string() == wanted) return true;
    }
    return false;
  }
  return v.is_text() && v.as_string() == wanted;
}

// Sysmon writes {00000000-0000-0000-0000-000000000000} for a process it has
// not seen: not an id two processes may share.
bool is_unknown_id(std::string_view id) {
  bool digit = false;
  for (char c : id) {
    if (c == '0') {
      digit = true;
    } else if (c != '{' && c != '}' && c != '-') {
      return false;
    }
  }
  return digit;
}

// A link by pid holds only this close in time: pids are reused, and a host's
// recordings may lie years apart.
constexpr TimestampNs kPidLinkWindow = 24LL * 3600 * 1000000000LL;

bool within_pid_window(TimestampNs seen, TimestampNs at) {
  return seen != INT64_MIN && at >= saturating_sub(seen, 60LL * 1000000000LL) &&
         saturating_sub(at, seen) <= kPidLinkWindow;
}

void member(std::string& out, bool& first, std::string_view key, const std::string& value) {
  if (value.empty()) return;
  if (!first) out.push_back(',');
  first = false;
  append_json_string(out, key);
  out.push_back(':');
  append_json_string(out, value);
}

struct Module {
  std::string path, signer, status;
  TimestampNs time;
  friend auto members(Unqualified<Module> auto& m) { return std::tie(m.path, m.signer, m.status, m.time); }
};

struct Connection {
  std::string destination, port;
  TimestampNs time;
  friend auto members(Unqualified<Connection> auto& c) { return std::tie(c.destination, c.port, c.time); }
};

// The parent as a process start event describes it: shown when the parent
// itself is not known (or to fill what its own events did not say).
struct ParentDescription {
  std::string pid, name, executable, command_line;
  friend auto members(Unqualified<ParentDescription> auto& d) {
    return std::tie(d.pid, d.name, d.executable, d.command_line);
  }
};

struct Process {
  std::string key, entity_id, pid, name, executable, command_line, user, parent_key;
  TimestampNs start = 0;
  TimestampNs last_seen = INT64_MIN;
  bool started = false;
  bool parent_by_pid = false;  // parent_key found by pid and time, not by entity id
  ParentDescription parent;
  std::deque<Module> modules;
  std::deque<Connection> connections;
  friend auto members(Unqualified<Process> auto& p) {
    return std::tie(p.key, p.entity_id, p.pid, p.name, p.executable, p.command_line, p.user, p.parent_key, p.start,
                    p.last_seen, p.started, p.parent_by_pid, p.parent, p.modules, p.connections);
  }
};

// Where a pid on a host was last seen under an entity id (pid -> process).
struct PidLink {
  std::string key, process_key;
  TimestampNs time = INT64_MIN;
  friend auto members(Unqualified<PidLink> auto& l) { return std::tie(l.key, l.process_key, l.time); }
};

struct FileWrite {
  std::string key, path, process_name, process_pid, process_executable;
  TimestampNs time;
  friend auto members(Unqualified<FileWrite> auto& f) {
    return std::tie(f.key, f.path, f.process_name, f.process_pid, f.process_executable, f.time);
  }
};

// A map with least-recently-used eviction beyond `cap` entries.
template <typename T>
class LruMap {
 public:
  explicit LruMap(std::size_t cap) : cap_(cap) {}
  T* find(std::string_view key) {
    // Events come in runs of one process: the most recent entry first, without hashing.
    if (!order_.empty() && order_.front().key == key) return &order_.front();
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &*it->second;
  }
  const T* peek(std::string_view key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &*it->second;
  }
  T& insert(std::string_view key, std::uint64_t& evicted) {
    if (T* existing = find(key)) return *existing;
    if (index_.size() >= cap_ && !order_.empty()) {
      index_.erase(order_.back().key);
      order_.pop_back();
      ++evicted;
    }
    order_.emplace_front();
    order_.front().key = key;
    index_.emplace(order_.front().key, order_.begin());
    return order_.front();
  }

  // Entries from least to most recently used, and back (stream checkpoints).
  void save(Encoder& out) const {
    out.varint(order_.size());
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) out(*it);
  }
  void load(Decoder& in, std::uint64_t& evicted) {
    order_.clear();
    index_.clear();
    const std::uint64_t n = in.varint();
    for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
      T entry;
      in(entry);
      if (!in.ok()) break;
      insert(entry.key, evicted) = std::move(entry);
    }
  }

 private:
  std::size_t cap_;
  std::list<T> order_;
  std::unordered_map<std::string, typename std::list<T>::iterator, StringHash, std::equal_to<>> index_;
};

}  // namespace

struct HostState::Impl {
  HostStateLimits limits;
  FieldId host, category, type, entity_id, pid, name, executable, command_line, user, parent_entity_id, parent_pid,
      parent_name, parent_executable, parent_command_line, dll_path, dll_signer, dll_status, file_path, dest_ip,
      dest_port;
  LruMap<Process> processes;
  LruMap<FileWrite> files;
  LruMap<PidLink> pids;  // "host|pid:N" -> the entity-id keyed process last seen with it
  std::uint64_t pid_links_evicted = 0;  // follows the process cap; not reported on its own

  Impl(FieldRegistry& f, HostStateLimits l)
      : limits(l),
        host(f.intern("host.name")), category(f.intern("event.category")), type(f.intern("event.type")),
        entity_id(f.intern("process.entity_id")), pid(f.intern("process.pid")), name(f.intern("process.name")),
        executable(f.intern("process.executable")), command_line(f.intern("process.command_line")),
        user(f.intern("user.name")), parent_entity_id(f.intern("process.parent.entity_id")),
        parent_pid(f.intern("process.parent.pid")), parent_name(f.intern("process.parent.name")),
        parent_executable(f.intern("process.parent.executable")),
        parent_command_line(f.intern("process.parent.command_line")), dll_path(f.intern("dll.path")),
        dll_signer(f.intern("dll.code_signature.subject_name")), dll_status(f.intern("dll.code_signature.status")),
        file_path(f.intern("file.path")), dest_ip(f.intern("destination.ip")), dest_port(f.intern("destination.port")),
        processes(l.max_processes), files(l.max_files), pids(l.max_processes) {}

  std::string key_buf, parent_buf, pid_buf;  // observe()'s keys, reused

  // "host|guid" (folded) or "host|pid:N" into `out`; empty when the event
  // names no process. An all-zero GUID (Sysmon's "parent not known") is no id.
  static void key_of(std::string& out, std::string_view host_name, const Value& guid, const Value& pid_value) {
    out.clear();
    std::array<char, 24> buf;
    if (std::string_view id = view_of(guid, buf); !id.empty() && !is_unknown_id(id)) {
      out.append(host_name).push_back('|');
      append_folded(out, id);
    } else if (std::string_view p = view_of(pid_value, buf); !p.empty()) {
      pid_key(out, host_name, p);
    }
  }
  static void pid_key(std::string& out, std::string_view host_name, std::string_view pid) {
    out.clear();
    out.append(host_name).append("|pid:").append(pid);
  }
  static bool is_pid_key(std::string_view key) { return key.find("|pid:") != std::string_view::npos; }
  static std::string key_of(std::string_view host_name, const Value& guid, const Value& pid_value) {
    std::string out;
    key_of(out, host_name, guid, pid_value);
    return out;
  }

  static std::string file_key(std::string_view host_name, std::string_view path) {
    std::string key(host_name);
    key.push_back('|');
    append_folded(key, path);
    return key;
  }
};

HostState::HostState(FieldRegistry& fields, HostStateLimits limits) : impl_(std::make_unique<Impl>(fields, limits)) {}
HostState::~HostState() = default;

void HostState::save(Encoder& out) const {
  impl_->processes.save(out);
  impl_->files.save(out);
  impl_->pids.save(out);
  out(stats_.processes_evicted);
  out(stats_.files_evicted);
}

void HostState::load(Decoder& in) {
  // A checkpoint written under larger caps: the oldest go, counted.
  std::uint64_t processes_evicted = 0, files_evicted = 0;
  impl_->processes.load(in, processes_evicted);
  impl_->files.load(in, files_evicted);
  impl_->pids.load(in, impl_->pid_links_evicted);
  in(stats_.processes_evicted);
  in(stats_.files_evicted);
  stats_.processes_evicted += processes_evicted;
  stats_.files_evicted += files_evicted;
}

void HostState::observe(const Event& e) {
  Impl& s = *impl_;
  std::array<char, 24> host_buf, buf;
  const std::string_view host = view_of(e.get(s.host), host_buf);
  std::string& key = s.key_buf;
  Impl::key_of(key, host, e.get(s.entity_id), e.get(s.pid));
  const Value& category = e.get(s.category);
  const bool process_start = has_text(category, "process") && has_text(e.get(s.type), "start");
  const TimestampNs now = e.has_timestamp ? e.timestamp_ns : INT64_MIN;
  std::string& parent_key = s.parent_buf;
  parent_key.clear();
  bool parent_by_pid = false;
  if (process_start) {
    Impl::key_of(parent_key, host, e.get(s.parent_entity_id), e.get(s.parent_pid));
    if (Impl::is_pid_key(parent_key)) {
      // No entity id for the parent: the process last seen with that pid on
      // this host, if recently enough (a link by pid, marked); else only what
      // this event says of it.
      const PidLink* link = s.pids.peek(parent_key);
      const Process* by_pid = s.processes.peek(parent_key);
      const bool link_ok = link && within_pid_window(link->time, now) && s.processes.peek(link->process_key);
      const bool pid_ok = by_pid && within_pid_window(by_pid->last_seen, now);
      if (link_ok && (!pid_ok || link->time >= by_pid->last_seen)) {
        parent_key = link->process_key;
        parent_by_pid = true;
      } else if (pid_ok) {
        parent_by_pid = true;
      } else if (by_pid) {
        s.processes.insert(parent_key, stats_.processes_evicted) = Process{.key = parent_key};  // a stale pid: fresh
      }
    }
  }
  if (!parent_key.empty()) {
    // The parent as this event describes it: one generation even when its own start was not seen.
    Process& parent = s.processes.insert(parent_key, stats_.processes_evicted);
    fill(parent.name, e.get(s.parent_name));
    fill(parent.executable, e.get(s.parent_executable));
    fill(parent.command_line, e.get(s.parent_command_line));
    fill(parent.pid, e.get(s.parent_pid));
    if (!Impl::is_pid_key(parent_key)) fill(parent.entity_id, e.get(s.parent_entity_id));
    parent.last_seen = std::max(parent.last_seen, now);
  }
  if (key.empty()) return;
  Process* existing = s.processes.find(key);
  if (existing && Impl::is_pid_key(key) &&
      (process_start || !within_pid_window(existing->last_seen, now))) {
    *existing = Process{.key = key};  // a pid used again: another process
  }
  Process& p = existing ? *existing : s.processes.insert(key, stats_.processes_evicted);
  if (process_start) {
    p.started = true;
    p.start = e.timestamp_ns;
    p.parent_key = parent_key;
    p.parent_by_pid = parent_by_pid;
    p.parent.pid = text_of(e.get(s.parent_pid));
    p.parent.name = text_of(e.get(s.parent_name));
    p.parent.executable = text_of(e.get(s.parent_executable));
    p.parent.command_line = text_of(e.get(s.parent_command_line));
    p.command_line = text_of(e.get(s.command_line));
    p.user = text_of(e.get(s.user));
  }
  fill(p.name, e.get(s.name));
  fill(p.executable, e.get(s.executable));
  fill(p.pid, e.get(s.pid));
  if (!Impl::is_pid_key(key)) fill(p.entity_id, e.get(s.entity_id));
  fill(p.user, e.get(s.user));
  p.last_seen = std::max(p.last_seen, now);
  if (!Impl::is_pid_key(key) && !p.pid.empty()) {
    Impl::pid_key(s.pid_buf, host, p.pid);
    PidLink& link = s.pids.insert(s.pid_buf, s.pid_links_evicted);
    if (now >= link.time) {
      link.process_key = key;
      link.time = now;
    }
  }
  if (std::string_view dll = view_of(e.get(s.dll_path), buf); !dll.empty()) {
    p.modules.push_back({std::string(dll), text_of(e.get(s.dll_signer)), text_of(e.get(s.dll_status)), e.timestamp_ns});
    if (p.modules.size() > s.limits.modules_per_process) p.modules.pop_front();
  }
  if (has_text(category, "network")) {
    if (std::string_view ip = view_of(e.get(s.dest_ip), buf); !ip.empty()) {
      p.connections.push_back({std::string(ip), text_of(e.get(s.dest_port)), e.timestamp_ns});
      if (p.connections.size() > s.limits.connections_per_process) p.connections.pop_front();
    }
  }
  if (has_text(category, "file")) {
    const Value& type = e.get(s.type);
    if (has_text(type, "creation") || has_text(type, "change")) {
      if (std::string_view path = view_of(e.get(s.file_path), buf); !path.empty()) {
        FileWrite& f = s.files.insert(s.file_key(host, path), stats_.files_evicted);
        f.path = path;
        f.process_name = p.name;
        f.process_pid = p.pid;
        f.process_executable = p.executable;
        f.time = e.timestamp_ns;
      }
    }
  }
}

std::string HostState::context_json(const Event& e) const {
  const Impl& s = *impl_;
  std::string host = text_of(e.get(s.host));
  std::string key = Impl::key_of(host, e.get(s.entity_id), e.get(s.pid));
  std::string out = "{";
  bool first_section = true;
  auto section = [&](std::string_view name) {
    if (!first_section) out.push_back(',');
    first_section = false;
    append_json_string(out, name);
    out += ":[";
  };
  const Process* p = key.empty() ? nullptr : s.processes.peek(key);
  if (p) {
    // Ancestry: parent, grandparent, ... (cycles in damaged data stop it).
    // A generation found by pid and time says so ("linked_by": "pid"); a
    // parent known only from its child's start event is shown as described.
    std::string ancestry;
    const Process* cur = p;
    for (int depth = 0; depth < s.limits.ancestry_depth && cur; ++depth) {
      const Process* parent = cur->parent_key.empty() ? nullptr : s.processes.peek(cur->parent_key);
      if (parent == p || parent == cur) break;
      const ParentDescription& told = cur->parent;
      if (!parent && told.pid.empty() && told.name.empty()) break;
      if (!ancestry.empty()) ancestry.push_back(',');
      ancestry.push_back('{');
      bool first = true;
      auto either = [](const std::string& known, const std::string& described) -> const std::string& {
        return known.empty() ? described : known;
      };
      member(ancestry, first, "name", either(parent ? parent->name : told.name, told.name));
      member(ancestry, first, "pid", either(parent ? parent->pid : told.pid, told.pid));
      if (parent) member(ancestry, first, "entity_id", parent->entity_id);
      member(ancestry, first, "executable", either(parent ? parent->executable : told.executable, told.executable));
      member(ancestry, first, "command_line",
             either(parent ? parent->command_line : told.command_line, told.command_line));
      if (parent) member(ancestry, first, "user", parent->user);
      if (parent && parent->started) member(ancestry, first, "start", format_timestamp(parent->start));
      if (parent && cur->parent_by_pid) member(ancestry, first, "linked_by", std::string("pid"));
      ancestry.push_back('}');
      cur = parent;
    }
    if (!ancestry.empty()) {
      section("process_ancestry");
      out += ancestry + "]";
    }
    if (!p->modules.empty()) {
      section("modules");
      for (std::size_t i = 0; i < p->modules.size(); ++i) {
        const Module& m = p->modules[i];
        if (i) out.push_back(',');
        out.push_back('{');
        bool first = true;
        member(out, first, "path", m.path);
        member(out, first, "signer", m.signer);
        member(out, first, "status", m.status);
        member(out, first, "time", format_timestamp(m.time));
        out.push_back('}');
      }
      out += "]";
    }
    if (!p->connections.empty()) {
      section("network");
      for (std::size_t i = 0; i < p->connections.size(); ++i) {
        const Connection& c = p->connections[i];
        if (i) out.push_back(',');
        out.push_back('{');
        bool first = true;
        member(out, first, "destination", c.destination);
        member(out, first, "port", c.port);
        member(out, first, "time", format_timestamp(c.time));
        out.push_back('}');
      }
      out += "]";
    }
  }
  // Provenance of the files the event names: which process wrote them, when.
  std::string provenance;
  for (FieldId id : {s.file_path, s.dll_path, s.executable}) {
    std::string path = text_of(e.get(id));
    if (path.empty()) continue;
    const FileWrite* f = s.files.peek(s.file_key(host, path));
    if (!f) continue;
    if (!provenance.empty()) provenance.push_back(',');
    provenance.push_back('{');
    bool first = true;
    member(provenance, first, "path", f->path);
    member(provenance, first, "written_by", f->process_name);
    member(provenance, first, "written_by_pid", f->process_pid);
    member(provenance, first, "written_by_executable", f->process_executable);
    member(provenance, first, "time", format_timestamp(f->time));
    provenance.push_back('}');
  }
  if (!provenance.empty()) {
    section("file_provenance");
    out += provenance + "]";
  }
  out.push_back('}');
  return out;
}

}  // namespace vigil
