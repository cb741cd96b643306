package io.machxp.chaos;

import io.machxp.chaos.History.Kind;
import io.machxp.kernel.core.KernelError;
import io.machxp.kernel.core.Reply;
import io.machxp.kernel.futex.Acquired;
import io.machxp.sim.SimCluster;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The calls a chaos run's harness makes into its kernels, and the record of them in the run's
 * {@link History}: the only place a worker's calls and what their answers mean are recorded.
 *
 * <h2>Overview</h2>
 * <pre>
 *  call       made when its kernel runs it (a paused kernel runs it when it resumes); a worker's
 *             is recorded as CALL, with its timeout and what it is ("lock f2", "read f2", ...);
 *             none once the harness counts the kernel stopped or the worker's task dead
 *  answer     recorded the moment the kernel gives it: ANSWER with OK, EBUSY (a trylock's null)
 *             or the errno (counted), and what it means:
 *               an acquisition    ACQUIRE with its fencing token; the worker owns the futex, or
 *                                 OWNER_GONE at once if its task died or its kernel stopped
 *               a read f          READ of the counter
 *               a write f, OK     WRITE of the value read + 1
 *               a lock f          no longer waiting ({@link PiWatch})
 *               an unlock f       no unlock under way
 *  go on      the caller's continuation runs as an event of its own, unless the worker's task
 *             died or the harness counts its kernel as stopped meanwhile
 * </pre>
 * The calls that start a worker (task_create, vm_map, thread_create) have no worker yet: they
 * are made the same way and not recorded.
 */
final class KernelCalls {
    private final SimCluster cluster;
    private final History history;
    private final PiWatch pi;
    private final ChaosRun run;

    KernelCalls(ChaosRun run) {
        this.run = run;
        this.cluster = run.cluster;
        this.history = run.history;
        this.pi = run.pi;
    }

    /**
     * Makes a call into a kernel (when it runs: a paused kernel runs it when it resumes) and
     * records it. Its answer is recorded when the kernel gives it, with what it means (an
     * acquisition, a read, a write); the worker goes on in an event of its own, unless its task
     * died or the harness counts its kernel as stopped.
     */
    <T> void call(SimKernelState k, Worker w, String what, long timeout, Consumer<Reply<T>> invoke,
            Consumer<T> ok, Consumer<KernelError> failed) {
        if (k.stopped || (w != null && w.dead)) {
            return;
        }
        if (w != null) {
            history.add(cluster.now(), Kind.CALL, w.name, -1, timeout, false, what);
        }
        Reply<T> reply = new Reply<>() {
            @Override
            public void complete(T value) {
                done(w, this);
                // A trylock's null: the futex is busy (Linux's EBUSY); it acquired nothing.
                answered(w, value == null && what.startsWith("trylock f") ? "EBUSY" : "OK", what, value);
                cluster.at(cluster.now(), () -> goOn(k, w, () -> ok.accept(value)));
            }

            @Override
            public void fail(KernelError error) {
                done(w, this);
                answered(w, error.errno().name(), what, null);
                cluster.at(cluster.now(), () -> goOn(k, w, () -> failed.accept(error)));
            }
        };
        if (w != null && what.startsWith("lock f")) {
            w.pendingLock = reply; // its caller may cancel it (StaleHeirShutdowns)
        }
        cluster.call(k.name, () -> invoke.accept(reply));
    }

    /** As the call above; an error ends what the caller was doing. */
    <T> void call(SimKernelState k, Worker w, String what, long timeout, Consumer<Reply<T>> invoke,
            Consumer<T> ok) {
        call(k, w, what, timeout, invoke, ok, error -> { });
    }

    /** The call answered by {@code reply} is no longer pending. */
    private static void done(Worker w, Reply<?> reply) {
        if (w != null && w.pendingLock == reply) {
            w.pendingLock = null;
        }
    }

    /** The kernel answers: recorded now, with what the answer means. */
    private void answered(Worker w, String errno, String what, Object value) {
        if (w == null) {
            return;
        }
        history.add(cluster.now(), Kind.ANSWER, w.name, -1, 0, false, errno);
        if (!errno.equals("OK")) {
            run.count(errno);
        }
        if (what.startsWith("lock f")) {
            pi.stopsWaiting(w.locking, w.name, cluster.now());
        } else if (what.startsWith("trylock f")) {
            pi.tryAnswered(w.locking, w.name, cluster.now());
        } else if (what.startsWith("unlock f")) {
            w.unlocking = -1;
        }
        if (value instanceof Acquired a) {
            history.add(cluster.now(), Kind.ACQUIRE, w.name, w.locking, a.fencingToken(), a.ownerDied(), a.path().name());
            run.count("acquisitions");
            if (w.dead || w.kernel.stopped) {
                history.add(cluster.now(), Kind.OWNER_GONE, w.name, w.locking, 0, true,
                        w.dead ? "task died" : "kernel stopped");
            } else {
                w.owns = w.locking;
                w.acquiredAt = cluster.now();
            }
        } else if (value instanceof byte[] bytes && what.startsWith("read f")) {
            w.lastRead = ByteBuffer.wrap(bytes).getLong();
            history.add(cluster.now(), Kind.READ, w.name, w.locking, w.lastRead, false, "");
        } else if (errno.equals("OK") && what.startsWith("write f")) {
            history.add(cluster.now(), Kind.WRITE, w.name, w.locking, w.lastRead + 1, false, "");
        }
    }

    /** The worker goes on with the answer, unless its task died or its kernel stopped meanwhile. */
    private void goOn(SimKernelState k, Worker w, Runnable then) {
        if (w == null ? !k.stopped : !w.dead && !w.kernel.stopped) {
            then.run();
        }
    }
}
