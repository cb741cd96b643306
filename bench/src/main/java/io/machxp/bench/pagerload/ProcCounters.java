package io.machxp.bench.pagerload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What Linux counts for one process (the pager's), read from /proc: CPU time per thread, split into
 * user and system mode, the times each thread blocked (its voluntary context switches: for an event
 * loop, each wait in epoll that found nothing ready), and its minor page faults, the process's read and write system calls
 * ({@code syscr}, {@code syscw} of /proc/PID/io: read, readv, write, writev, on sockets too; not
 * epoll_wait, recvmsg or sendmsg). These show where a message's cost goes, and unlike the CPU time
 * they hardly depend on how loaded the machine is.
 *
 * @param threads by thread name as Linux keeps it (15 characters), threads of one name summed
 * @param readCalls read system calls of the whole process so far
 * @param writeCalls write system calls of the whole process so far
 */
record ProcCounters(Map<String, Thread> threads, long readCalls, long writeCalls) {
    /** USER_HZ: the unit of /proc/PID/stat's times; 100 on every Linux the JVM runs on. */
    private static final long NANOS_PER_TICK = 1_000_000_000L / 100;

    /**
     * One thread's (or one name's) counters; {@code pageFaults}: its minor page faults, each a page
     * of memory touched for the first time (fresh Java heap, or heap the JVM gave back and took again).
     */
    record Thread(long userNanos, long systemNanos, long waits, long pageFaults) {
        long cpuNanos() {
            return userNanos + systemNanos;
        }

        Thread plus(Thread o) {
            return new Thread(userNanos + o.userNanos, systemNanos + o.systemNanos, waits + o.waits,
                    pageFaults + o.pageFaults);
        }

        Thread minus(Thread o) {
            return new Thread(userNanos - o.userNanos, systemNanos - o.systemNanos, waits - o.waits,
                    pageFaults - o.pageFaults);
        }
    }

    /** The counters of process {@code pid} now. */
    static ProcCounters read(long pid) throws IOException {
        Path proc = Path.of("/proc", Long.toString(pid));
        Map<String, Thread> threads = new TreeMap<>();
        try (var tasks = Files.list(proc.resolve("task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    threads.merge(threadName(stat), thread(stat, Files.readString(task.resolve("status"))),
                            Thread::plus);
                } catch (IOException e) {
                    if (!endedMeanwhile(task, e)) {
                        throw e;
                    }
                }
            }
        }
        String io = Files.readString(proc.resolve("io"));
        return new ProcCounters(threads, field(io, "syscr"), field(io, "syscw"));
    }

    /**
     * Whether reading thread {@code task}'s files failed because the thread ended between the
     * listing and the read: its directory gone (NoSuchFileException), or the thread exiting while
     * it was read, which Linux reports as ESRCH ("No such process").
     */
    static boolean endedMeanwhile(Path task, IOException e) {
        return e instanceof NoSuchFileException || "No such process".equals(e.getMessage()) || !Files.exists(task);
    }

    /** The sum over every thread. */
    Thread total() {
        return threads.values().stream().reduce(new Thread(0, 0, 0, 0), Thread::plus);
    }

    static String threadName(String stat) {
        return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    }

    /** From a task's stat (minflt, utime, stime) and status (voluntary_ctxt_switches) files. */
    static Thread thread(String stat, String status) {
        // Fields after the command name, which is in parentheses and may hold spaces.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new Thread(Long.parseLong(f[11]) * NANOS_PER_TICK, Long.parseLong(f[12]) * NANOS_PER_TICK,
                field(status, "voluntary_ctxt_switches"), Long.parseLong(f[7]));
    }

    /** The number after "NAME:" on its own line of a /proc file. */
    static long field(String file, String name) {
        for (String line : file.split("\n")) {
            if (line.startsWith(name + ":")) {
                return Long.parseLong(line.substring(name.length() + 1).trim());
            }
        }
        throw new IllegalArgumentException("no " + name + " in " + file);
    }
}
