import Foundation

/// Names the calling thread (Linux keeps 15 bytes), so `top -H`, `perf` and debuggers show which
/// of the server's threads is the writer or the checkpointer. Foundation applies a name to the
/// OS thread only when it is set from the running thread itself.
public func nameCurrentThread(_ name: String) {
    Thread.current.name = name
}
