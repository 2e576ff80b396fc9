import Foundation

/// Names the calling thread (Linux keeps 15 bytes), so `top -H`, `perf` and debuggers show which
/// of the server's threads is the writer or the checkpointer.
///
/// Written to `/proc/thread-self/comm` as well: Foundation's `Thread.name` did not reach a thread
/// started from a Dispatch worker, which kept the worker's name (`…oot.default-qos`), so
/// `bench_stages.py` could not tell the writer from HTTP. (`pthread_setname_np` and `prctl` are
/// not importable from Swift's Glibc module.)
public func nameCurrentThread(_ name: String) {
    Thread.current.name = name
    #if os(Linux)
    if let comm = FileHandle(forWritingAtPath: "/proc/thread-self/comm") {
        try? comm.write(contentsOf: Data(name.utf8.prefix(15)))
        try? comm.close()
    }
    #endif
}
