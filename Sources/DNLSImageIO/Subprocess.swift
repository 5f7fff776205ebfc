@_spi(FileIO) import DNLS
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A program run to completion with its standard input given and its standard output and error
/// collected (for the `ffmpeg` bridge). The three pipes are served together with `poll`, so that
/// a program that writes much to one stream while the other is unread cannot stall.
package struct Subprocess {
    /// What the program wrote, and how it ended.
    package struct Result {
        package var output: [UInt8]
        package var errors: [UInt8]
        /// The exit status, or nil when a signal ended the program.
        package var status: Int32?
        /// The signal that ended it, if one did.
        package var signal: Int32?
    }

    /// The first executable file named `program` in the folders of `PATH`, or nil.
    package static func locate(_ program: String) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        guard let path = getenv("PATH") else { return nil }
        for folder in String(cString: path).split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = folder + "/" + program
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Runs `executable` with `arguments` (the program's name first), feeding it `input` and
    /// collecting what it writes; `onOutput` is called with standard output as read so far, for
    /// progress. Throws `fileAccess` naming `path` when the program cannot be started.
    package static func run(_ executable: String, _ arguments: [String], input: [UInt8] = [], path: String,
                            onOutput: ([UInt8]) -> Void = { _ in }) throws(DNLSError) -> Result {
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        guard pipe(&stdinPipe) == 0 else { throw .fileAccess(path: path, reason: "cannot make a pipe: \(errorText())") }
        guard pipe(&stdoutPipe) == 0 else {
            closeAll(stdinPipe)
            throw .fileAccess(path: path, reason: "cannot make a pipe: \(errorText())")
        }
        guard pipe(&stderrPipe) == 0 else {
            closeAll(stdinPipe + stdoutPipe)
            throw .fileAccess(path: path, reason: "cannot make a pipe: \(errorText())")
        }
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        for fd in stdinPipe + stdoutPipe + stderrPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        close(stdinPipe[0]); close(stdoutPipe[1]); close(stderrPipe[1])
        guard spawned == 0 else {
            closeAll([stdinPipe[1], stdoutPipe[0], stderrPipe[0]])
            throw .fileAccess(path: path, reason: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        // A program that exits before reading all of its input must not kill this one.
        signal(SIGPIPE, SIG_IGN)
        var result = Result(output: [], errors: [], status: nil, signal: nil)
        var writeFD = stdinPipe[1], outFD = stdoutPipe[0], errFD = stderrPipe[0]
        var written = 0
        if input.isEmpty { close(writeFD); writeFD = -1 }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while outFD >= 0 || errFD >= 0 || writeFD >= 0 {
            var fds = [pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0),
                       pollfd(fd: outFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 3, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if writeFD >= 0, fds[0].revents != 0 {
                let n = input.withUnsafeBufferPointer { write(writeFD, $0.baseAddress! + written, min(1 << 16, input.count - written)) }
                if n > 0 { written += n }
                if n < 0 && errno != EINTR && errno != EAGAIN || written == input.count { close(writeFD); writeFD = -1 }
            }
            for (index, isOutput) in [(1, true), (2, false)] where fds[index].revents != 0 {
                let fd = isOutput ? outFD : errFD
                let n = buffer.withUnsafeMutableBufferPointer { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if isOutput {
                        result.output += buffer[0..<n]
                        onOutput(result.output)
                    } else if result.errors.count < 1 << 20 {
                        result.errors += buffer[0..<n]
                    }
                } else if n == 0 || errno != EINTR {
                    close(fd)
                    if isOutput { outFD = -1 } else { errFD = -1 }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { result.status = (status >> 8) & 0xff } else { result.signal = status & 0x7f }
        return result
    }

    private static func closeAll(_ fds: [Int32]) { for fd in fds where fd >= 0 { close(fd) } }
    private static func errorText() -> String { String(cString: strerror(errno)) }
}
