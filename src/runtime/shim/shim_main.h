// Entry point of the berth-shim binary. Two modes, both started by the runtime client with
// fork+exec and a result pipe as fd 3 (--result-fd):
//
//   berth-shim create --state-dir <dir> --result-fd 3
//     Forks the shim daemon and exits at once. The daemon detaches (own session, child
//     subreaper, stdio to /dev/null and <dir>/shim.log), creates the container described by
//     <dir>/launch.json, writes one JSON response line to the result pipe ({"ok": true, "state":
//     {...}} or an error response, see protocol.h) and then serves the container until it exits.
//
//   berth-shim exec --state-dir <dir> --request <file> --result-fd 3
//     Runs the process of <file> ({"process": {...}, "timeout_ms": N}) in the container, with the
//     caller's stdout and stderr, and writes {"ok": true, "exit_code": N, "timed_out": bool,
//     "warnings": [...]} or an error response to the result pipe.
#pragma once

namespace berth::runtime {

int ShimMain(int argc, char** argv);

}  // namespace berth::runtime
