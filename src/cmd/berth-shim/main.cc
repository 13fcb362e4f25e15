// berth-shim: one per container; see runtime/shim/shim_main.h for its modes.
#include "runtime/shim/shim_main.h"

int main(int argc, char** argv) { return berth::runtime::ShimMain(argc, argv); }
