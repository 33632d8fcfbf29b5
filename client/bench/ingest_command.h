// hartonomous-bench's "ingest" and "ingest-reference" commands: atom ingest
// through hartonomousd with every returned id checked against the plan, and
// the same atoms written by LMDB alone in-process (docs/benchmarks.md, "Atom
// ingest"). argv[1] is the command.
#pragma once

namespace hartonomous::bench {

int IngestCommandMain(int argc, char** argv);

}  // namespace hartonomous::bench
