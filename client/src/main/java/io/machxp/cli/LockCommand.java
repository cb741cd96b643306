package io.machxp.cli;

import io.machxp.client.KernelClient;
import io.machxp.client.TaskClient;
import io.machxp.client.TaskWatch;
import io.machxp.client.ThreadClient;
import io.machxp.proto.task.VmLockFutexReply;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * machxp lock: holds a futex of a memory object while a command runs, as etcdctl lock does with a
 * key. A task on the kernel with one thread locks the futex word at OBJECT:OFFSET; the command
 * runs with the grant's fencing token in MACHXP_FENCING_TOKEN (a resource that remembers the
 * highest token it saw refuses an older one: examples/fenced-append.sh); when it exits, or machxp is
 * stopped by a signal, the command is stopped and the futex unlocked (a signal waits for the
 * release under way: {@link LockSignalGuard}). The task is watched
 * (TaskWatch): if machxp itself dies, the kernel terminates the task and the futex goes to its
 * next waiter with OWNER_DIED. A grant with owner_died is the command's to repair: marked
 * consistent when it exits 0, passed on with OWNER_DIED again when it does not ({@link #release}).
 */
@Command(name = "lock", mixinStandardHelpOptions = true,
        header = "Hold a futex while a command runs: machxp lock --kernel HOST:PORT OBJECT:OFFSET -- CMD.",
        description = {"Locks the futex word at OFFSET (bytes) of memory object OBJECT on the kernel, runs CMD with",
            "MACHXP_FENCING_TOKEN (the grant's fencing token), MACHXP_OWNER_DIED (true when the last owner",
            "died holding it) and MACHXP_LOCK (OBJECT:OFFSET) in its environment, and unlocks when CMD",
            "exits or machxp is stopped (Ctrl-C, SIGTERM). With MACHXP_OWNER_DIED=true, CMD is the repair:",
            "if it exits 0 the futex is marked consistent, then unlocked; otherwise it is not unlocked but",
            "passed on with OWNER_DIED again (its thread is terminated), for the next lock to repair.",
            "Exits with CMD's exit code; before CMD runs, 1 on bad usage, 3 when the kernel cannot be",
            "reached, 2 when --timeout expired first."})
final class LockCommand implements Callable<Integer> {

    /** --verbose: the stack trace of an error. */
    @picocli.CommandLine.Mixin
    VerboseOption verboseOption;
    @Spec
    CommandSpec spec;

    @Option(names = "--kernel", required = true, paramLabel = "HOST:PORT", description = "the kernel's task interface")
    String kernel;

    @Option(names = "--timeout", paramLabel = "DURATION",
            description = "give up when not granted within this long, e.g. 10s or 500ms (default: wait)")
    String timeout;

    @Option(names = "--priority", defaultValue = "0", description = "the locking thread's priority (default ${DEFAULT-VALUE})")
    int priority;

    @Parameters(index = "0", paramLabel = "OBJECT:OFFSET", description = "e.g. shared:0 (offset 4-byte aligned)")
    String futex;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "the command and its arguments, after --")
    List<String> command;

    @Mixin
    TlsOptions tls;

    @Override
    public Integer call() throws Exception {
        int colon = futex.lastIndexOf(':');
        long offset;
        try {
            offset = colon > 0 ? Long.parseLong(futex.substring(colon + 1)) : -1;
        } catch (NumberFormatException e) {
            offset = -1;
        }
        if (offset < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "'" + futex + "' is not OBJECT:OFFSET; write e.g. shared:0");
        }
        String object = futex.substring(0, colon);
        HostPort.require(spec, "--kernel", kernel);
        Duration wait = timeout == null ? null : DurationConverter.parse(timeout, "--timeout");
        try (KernelClient client = KernelClient.connect(kernel, tls.transport())) {
            TaskClient task = client.taskCreate("machxp lock " + futex);
            try (TaskWatch watch = task.watch()) {
                long address = task.vmMap(object) + offset;
                ThreadClient thread = task.threadCreate(priority);
                VmLockFutexReply grant;
                try {
                    grant = thread.lock(address, wait);
                } catch (io.machxp.client.MachxpException e) {
                    if (e.errno() == io.machxp.proto.task.Errno.ETIMEDOUT) {
                        spec.commandLine().getErr().println("machxp lock: " + futex + " was not granted within "
                                + timeout + "; it is held by another owner");
                        return ExitCodes.CHECK_FAILED;
                    }
                    throw e;
                }
                boolean repaired = false;
                LockSignalGuard guard = new LockSignalGuard(LockSignalGuard.RUNTIME);
                try {
                    guard.held();
                    int exit = run(grant, guard);
                    repaired = exit == 0;
                    return exit;
                } finally {
                    try {
                        release(thread, task, address, grant.getOwnerDied(), repaired);
                    } finally {
                        guard.released();
                    }
                }
            }
        }
    }

    /**
     * Gives the futex up as a careful robust-mutex user does. A plain grant is unlocked, whatever
     * CMD did. After an owner_died grant, CMD was the repair: if it exited 0 the futex is marked
     * consistent (vm_futex_consistent) and unlocked; if it failed, was stopped or could not be
     * started, unlocking would make the futex ENOTRECOVERABLE for good, so the holding thread is
     * terminated instead and the futex goes to its next owner with OWNER_DIED again: the next lock's
     * CMD gets the chance to repair.
     */
    private void release(ThreadClient thread, TaskClient task, long address, boolean ownerDied, boolean repaired) {
        try {
            if (!ownerDied) {
                thread.unlockFutex(address);
            } else if (repaired) {
                thread.markConsistent(address);
                thread.unlockFutex(address);
            } else {
                thread.terminate();
                spec.commandLine().getErr().println("machxp lock: " + futex + " was granted with owner_died and "
                        + command.get(0) + " did not exit 0, so it was not marked consistent; it goes to its next owner "
                        + "with MACHXP_OWNER_DIED=true, whose command can repair it");
            }
        } finally {
            task.terminate();
        }
    }

    /**
     * Runs the command with the grant in its environment. A signal to machxp stops the command
     * (SIGTERM) and waits, within 10 s, until the futex is released before the JVM exits ({@code guard}).
     */
    private int run(VmLockFutexReply grant, LockSignalGuard guard) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
        pb.environment().put("MACHXP_FENCING_TOKEN", Long.toUnsignedString(grant.getFencingToken()));
        pb.environment().put("MACHXP_OWNER_DIED", Boolean.toString(grant.getOwnerDied()));
        pb.environment().put("MACHXP_LOCK", futex);
        Process child;
        try {
            child = pb.start();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        guard.running(child);
        int exit = child.waitFor();
        guard.running(null); // a signal from now on waits for the release that follows
        return exit;
    }
}
