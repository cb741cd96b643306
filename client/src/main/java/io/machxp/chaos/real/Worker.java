package io.machxp.chaos.real;

import io.machxp.chaos.History.Kind;
import io.machxp.client.KernelClient;
import io.machxp.client.MachxpException;
import io.machxp.client.TaskClient;
import io.machxp.client.ThreadClient;
import io.machxp.client.WatchedTask;
import io.machxp.proto.task.VmLockFutexReply;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * A client worker of a real chaos run, on one kernel: a task of its own (watched, so that it ends
 * with the worker), one thread, and a loop until the run stops: lock a random futex (with a
 * timeout), mark it consistent after OWNER_DIED, read the counter next to the word, write it + 1,
 * unlock. Every call has a deadline. A call that fails ends the task (its futexes pass on with
 * OWNER_DIED) and the worker makes a new one; errors are counted by kind. What is recorded, and
 * when, is {@link Recorder}'s.
 *
 * <p>The write is recorded before its call: a write whose answer is lost may have been made, and
 * then the futex's next owner is told of a death (the task is terminated), which allows it.
 */
final class Worker implements Runnable {
    static final int PAGE = 4096;
    private static final Duration LOCK_TIMEOUT = Duration.ofMillis(1500);

    private final String kernel;
    private final int index;
    private final KernelClient client;
    private final Recorder recorder;
    private final int futexes;
    private final BooleanSupplier stop;
    private final SplittableRandom random;
    private WatchedTask watched;
    private TaskClient task;
    private ThreadClient thread;
    private long base;
    private String name;

    Worker(String kernel, int index, String target, Recorder recorder, int futexes, BooleanSupplier stop, long seed) {
        this.kernel = kernel;
        this.index = index;
        this.client = KernelClient.connect(target, io.machxp.proto.transport.Transport.PLAINTEXT,
                LOCK_TIMEOUT.plusSeconds(2));
        this.recorder = recorder;
        this.futexes = futexes;
        this.stop = stop;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public void run() {
        try {
            while (!stop.getAsBoolean()) {
                int epoch = recorder.begin(kernel, stop);
                if (stop.getAsBoolean()) {
                    break;
                }
                if (task == null && !setUp()) {
                    pause(100);
                    continue;
                }
                round(epoch);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            drop();
            client.close();
        }
    }

    private boolean setUp() {
        try {
            watched = WatchedTask.create(client, "chaos-" + kernel + "-" + index, RealChaos.OBJECT);
            task = watched.task();
            base = watched.base();
            thread = watched.thread();
            name = kernel + "/" + thread.tid();
            return true;
        } catch (MachxpException | IllegalStateException e) {
            count(e);
            drop();
            return false;
        }
    }

    /** One critical section; any failure drops the task. */
    private void round(int epoch) {
        int f = random.nextInt(futexes);
        long word = base + (long) f * PAGE;
        boolean owns = false;
        boolean released = false;
        try {
            long began = System.nanoTime();
            VmLockFutexReply got = thread.lock(word, LOCK_TIMEOUT);
            owns = true;
            recorder.granted(began, got.getPath() == io.machxp.proto.task.AcquirePath.PAGER_GRANT);
            if (!recorder.acquired(kernel, epoch, name, f, got.getFencingToken(), got.getOwnerDied())) {
                giveUpStale(word);
                return;
            }
            if (got.getOwnerDied()) {
                thread.markConsistent(word);
            }
            long value = task.readLong(word + 8);
            if (!recorder.value(kernel, epoch, name, f, Kind.READ, value)
                    || !recorder.value(kernel, epoch, name, f, Kind.WRITE, value + 1)) {
                giveUpStale(word);
                return;
            }
            task.writeLong(word + 8, value + 1);
            if (!recorder.release(kernel, epoch, name, f)) {
                giveUpStale(word);
                return;
            }
            owns = false;
            released = true;
            thread.unlockFutex(word);
        } catch (MachxpException e) {
            if (e.errno() == io.machxp.proto.task.Errno.ETIMEDOUT && !owns) {
                recorder.error("lock timed out");
                return; // an answer: the futex was busy
            }
            count(e);
            if (owns) {
                recorder.abandoned(kernel, epoch, name, f);
            } else if (released) {
                recorder.unlockUncertain(kernel, epoch, f);
            } else if (unanswered(e)) {
                recorder.lockUncertain(kernel, epoch, f);
            }
            drop();
        }
    }

    /**
     * Whether a call failed without the kernel's answer (its deadline passed, the connection
     * broke): a lock may then have been granted, and the task, terminated by {@link #drop}, passes
     * the futex on with OWNER_DIED. An errno is the kernel's answer: not granted.
     */
    private static boolean unanswered(MachxpException e) {
        return (e.errno() == null || e.errno() == io.machxp.proto.task.Errno.ERRNO_UNSPECIFIED)
                && (e.code() == io.grpc.Status.Code.DEADLINE_EXCEEDED || e.code() == io.grpc.Status.Code.UNAVAILABLE
                        || e.code() == io.grpc.Status.Code.CANCELLED || e.code() == io.grpc.Status.Code.UNKNOWN);
    }

    /** A fault came while the call was out: what it got is not recorded, and is let go quietly. */
    private void giveUpStale(long word) {
        recorder.error("answer after a fault, not recorded");
        if (recorder.unlockAfterFault(kernel)) {
            try {
                thread.unlockFutex(word);
            } catch (MachxpException ignored) {
                // the fault ended it already
            }
        }
        drop();
    }

    /** Ends the task (its futexes pass on with OWNER_DIED); the next round makes a new one. */
    private void drop() {
        if (watched != null) {
            watched.close();
        }
        watched = null;
        task = null;
        thread = null;
    }

    private void count(RuntimeException e) {
        if (e instanceof MachxpException m) {
            recorder.error(m.errno() != null && m.errno() != io.machxp.proto.task.Errno.ERRNO_UNSPECIFIED
                    ? m.errno().name() : m.code().name());
        } else {
            recorder.error(e.getClass().getSimpleName());
        }
    }

    private void pause(long millis) throws InterruptedException {
        Thread.sleep(millis); // a retry's backoff
    }
}
