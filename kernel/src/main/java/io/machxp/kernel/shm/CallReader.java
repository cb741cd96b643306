package io.machxp.kernel.shm;

import static io.machxp.proto.shm.ShmLayout.INT;
import static io.machxp.proto.shm.ShmLayout.LONG;

import io.machxp.proto.shm.CallLayout;
import io.machxp.proto.shm.Futex;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel's side of a session's call file ({@link CallLayout}, docs/shared-memory.md): one
 * thread that sleeps on the doorbell (a real futex), and when rung takes every posted call of the
 * slots given out so far and hands it to the task interface ({@link Dispatch}), which answers it
 * later through its {@link TakenCall}, from whatever thread the answer is ready on. The reader
 * never waits for an answer: a lock that waits does so in the core, as over gRPC.
 *
 * <pre>
 *   ASLEEP --doorbell rung (FUTEX_WAKE)--> SCANNING
 *   SCANNING: slot POSTED    -> TAKEN, request copied, dispatched (its TakenCall remembered)
 *             slot CANCELLED (or a newer call) while its TakenCall is unanswered -> its cancel handler runs
 *   SCANNING --nothing new since the scan began--> ASLEEP      any --close--> CLOSED (thread ends)
 * </pre>
 */
public final class CallReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CallReader.class);

    /** Where taken calls go: the task interface. */
    @FunctionalInterface
    public interface Dispatch {
        /** Handles {@code method} with the request's bytes (null: malformed), answering through {@code call}. */
        void call(TakenCall call, int method, byte[] request);
    }

    private final Path path;
    private final ByteBuffer file;
    private final long base;
    private final int slots;
    private final IntSupplier given;
    private volatile Dispatch dispatch;
    private volatile boolean closed;
    private Thread thread;

    /**
     * @param file the call file, mapped, {@code slots} slots
     * @param given how many slots the kernel has given out so far (those are scanned)
     */
    CallReader(Path path, ByteBuffer file, int slots, IntSupplier given) {
        this.path = path;
        this.file = file;
        this.base = Futex.address(file);
        this.slots = slots;
        this.given = given;
        INT.set(file, CallLayout.SLOTS, slots);
        LONG.set(file, CallLayout.KERNEL_PID, ProcessHandle.current().pid());
        LONG.setVolatile(file, 0, CallLayout.MAGIC);
    }

    public Path file() {
        return path;
    }

    /** Starts the reader with its dispatcher, once; later calls do nothing. */
    public synchronized void serve(Dispatch d, String kernelName) {
        if (thread != null || closed) {
            return;
        }
        dispatch = d;
        thread = new Thread(this::run, "kernel-" + kernelName + "-calls");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        TakenCall[] taken = new TakenCall[slots];
        while (!closed) {
            int bell = (int) INT.getVolatile(file, CallLayout.DOORBELL);
            scan(taken);
            INT.setVolatile(file, CallLayout.ASLEEP, 1);
            if ((int) INT.getVolatile(file, CallLayout.DOORBELL) == bell && !closed) {
                Futex.await(base + CallLayout.DOORBELL, bell, TimeUnit.SECONDS.toNanos(1));
            }
            INT.setVolatile(file, CallLayout.ASLEEP, 0);
        }
    }

    private void scan(TakenCall[] taken) {
        int high = Math.min(given.getAsInt(), slots);
        for (int i = 0; i < high; i++) {
            int at = CallLayout.slot(i);
            int s = (int) INT.getVolatile(file, at);
            TakenCall before = taken[i];
            if (before != null && (CallLayout.call(s) != before.call || CallLayout.phase(s) == CallLayout.CANCELLED)) {
                taken[i] = null;
                before.cancelledByClient();
            }
            if (CallLayout.phase(s) == CallLayout.POSTED
                    && INT.compareAndSet(file, at, s, CallLayout.state(CallLayout.call(s), CallLayout.TAKEN))) {
                taken[i] = take(i, at, CallLayout.call(s));
            }
        }
    }

    /** A call just taken: its request copied, then dispatched (unless the client cancelled meanwhile). */
    private TakenCall take(int slot, int at, int call) {
        int method = (int) INT.get(file, at + CallLayout.METHOD);
        int length = (int) INT.get(file, at + CallLayout.REQUEST_LENGTH);
        byte[] request = null;
        if (length >= 0 && length <= CallLayout.PAYLOAD) {
            request = new byte[length];
            file.get(at + CallLayout.PAYLOAD_AT, request);
        }
        TakenCall c = new TakenCall(file, base, at, call);
        if (c.cancelled()) {
            return null; // the client gave up while it was copied: it may be writing its next call
        }
        try {
            dispatch.call(c, method, request);
        } catch (RuntimeException e) {
            log.warn("call file {}: slot {} method {} failed in dispatch", path, slot, method, e);
        }
        return c;
    }

    /**
     * The session ended: the reader stops, and every client waiting in a slot is woken to find
     * CLOSED (its call fails UNAVAILABLE, and it uses gRPC from then on).
     */
    @Override
    public void close() {
        closed = true;
        INT.setVolatile(file, CallLayout.CLOSED, 1);
        Futex.wake(base + CallLayout.DOORBELL, 1);
        int high = Math.min(given.getAsInt(), slots);
        for (int i = 0; i < high; i++) {
            int phase = CallLayout.phase((int) INT.getVolatile(file, CallLayout.slot(i)));
            if (phase == CallLayout.POSTED || phase == CallLayout.TAKEN) {
                Futex.wake(base + CallLayout.slot(i), Integer.MAX_VALUE);
            }
        }
    }
}
