// Sysctls a container may set: only those the kernel keeps per namespace, so that a pod cannot
// change the host, with names and values checked before anything is written.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace berth::runtime {

// Returns the namespace type ("network", "ipc", "uts") that owns sysctl `key`, or "" when the
// key is not namespaced. Namespaced keys: net.*, kernel.shm*, kernel.msg*, kernel.sem,
// fs.mqueue.*, kernel.hostname and kernel.domainname.
std::string SysctlNamespaceType(const std::string& key);

// Checks one sysctl without touching the system. The key is dot-separated, as the kubelet sends
// it. A '/' inside a part is a dot of the file name (an interface such as "eth0.100").
// Parts must be non-empty, of [A-Za-z0-9_-/], and never "." or ".." once converted.
// The value must not be empty or contain another assignment ('=', ';', a line break or NUL),
// so a value cannot smuggle a second key. Errors are InvalidArgument naming the key.
absl::Status CheckSysctl(const std::string& key, const std::string& value);

// The /proc/sys file of a checked key: "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward".
std::string SysctlPath(const std::string& key);

}  // namespace berth::runtime
